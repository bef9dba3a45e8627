#pragma once
// Reading a container's CRI log file as `kubectl logs` expects it (the kubelet's
// pkg/kubelet/kuberuntime/logs): each file line is `<RFC3339Nano time> <stream> <P|F> <text>`
// (CRI: "container log format"); P lines are parts of one output line that F completes, so the
// decoded output joins them, and the optional timestamp prefix is written once per output line.
// tailLines counts file lines from the end, sinceTime drops older lines, limitBytes cuts the
// output; follow waits for the file to grow until the container has exited.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::kubelet {

// A point in time as a log line wrote it: nanoseconds since the epoch and the zone offset used.
struct LogTime {
  std::int64_t unixNanos = 0;
  int offsetSeconds = 0;
};

// RFC 3339 with 0-9 fraction digits and Z or ±hh:mm (Go's RFC3339Nano, leniently).
[[nodiscard]] Result<LogTime> parseRfc3339(std::string_view text);
// Go's RFC3339NanoFixed ("2006-01-02T15:04:05.000000000Z07:00"), what the kubelet prefixes.
std::string formatRfc3339NanoFixed(LogTime time);

struct CriLogLine {
  LogTime time;
  std::string_view stream;  // "stdout" | "stderr"
  bool partial = false;     // tag P: the text continues on the next line
  std::string_view text;    // without the newline
};

// One line of a CRI log file, without its '\n'.
[[nodiscard]] Result<CriLogLine> parseCriLogLine(std::string_view line);

// v1.PodLogOptions as the kubelet applies them to a file.
struct LogOptions {
  std::optional<std::int64_t> tailLines;   // >= 0
  std::optional<std::int64_t> limitBytes;  // >= 1
  std::optional<std::int64_t> sinceNanos;  // since the epoch (sinceTime, or now - sinceSeconds)
  bool timestamps = false;
  bool follow = false;
};

// Decodes file lines into `kubectl logs` output under the options (since, timestamps,
// limitBytes). Keeps the partial-line state between calls.
class LogDecoder {
 public:
  explicit LogDecoder(const LogOptions& options);
  // Appends the output of one file line (without '\n') to `out`; unparsable lines are skipped
  // as the kubelet does. False once limitBytes are out (nothing more will be written).
  bool decode(std::string_view fileLine, std::string& out);
  bool exhausted() const { return remaining_ <= 0; }

 private:
  std::optional<std::int64_t> since_;
  bool timestamps_;
  std::int64_t remaining_;
  bool atLineStart_ = true;
};

// The offset where the last `lines` lines of the file start (the kubelet's
// FindTailLineStartIndex): 0 when the file has fewer, its size when lines is 0.
[[nodiscard]] Result<std::int64_t> tailStartOffset(int fd, std::int64_t lines);

struct FollowHooks {
  // Whether the container still runs: following ends once it does not and the file has no more.
  std::function<bool()> containerRunning;
  // Whether the reader is gone (the client closed the connection).
  std::function<bool()> cancelled;
  // How long to wait for the file to change before checking the container again.
  std::chrono::milliseconds recheck{500};
};

// Reads the log at `path` under `options`, handing decoded output to `sink` in pieces (a false
// return stops reading). With options.follow, waits for new lines (inotify) until the container
// has stopped and everything written is out, or until cancelled.
[[nodiscard]] Status readContainerLog(const std::filesystem::path& path, const LogOptions& options,
                                      const std::function<bool(std::string)>& sink,
                                      const FollowHooks& hooks = {});

// The end of a container's output, for a termination message taken from the logs
// (FallbackToLogsOnError): the last 80 lines, at most their last 2048 bytes, as upstream.
std::string lastLogOutput(const std::filesystem::path& path);

}  // namespace berth::kubelet
