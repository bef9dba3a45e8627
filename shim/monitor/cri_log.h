#pragma once
// The CRI container log format the kubelet reads (and rotates):
//   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
// One writer per container, fed with raw output as it arrives: complete lines are "F", a line
// longer than the maximum is cut into "P" chunks ended by an "F", "\r\n" and "\n" are dropped,
// and what is left without a newline when a stream ends is a full line (containerd's rules).
#include <time.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::shim {

enum class LogStream { kStdout = 0, kStderr = 1 };
std::string_view logStreamName(LogStream stream);

// Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z", trailing zeros of the fraction
// trimmed (and the dot with them when it is zero).
std::string formatRfc3339Nano(const timespec& ts);

class CriLogWriter {
 public:
  using Clock = std::function<timespec()>;
  // containerd's default max_container_log_line_size.
  static constexpr std::size_t kDefaultMaxLine = 16 * 1024;

  // Opens (creating, 0640, appending) the log file.
  [[nodiscard]] static Result<CriLogWriter> open(std::filesystem::path path, Clock clock = {},
                                                 std::size_t maxLine = kDefaultMaxLine);

  [[nodiscard]] Status write(LogStream stream, std::string_view data);
  // The stream reached EOF: a pending unterminated line is written as a full line.
  [[nodiscard]] Status finish(LogStream stream);
  // The kubelet renamed the file to rotate it: continue in a new file at the same path.
  [[nodiscard]] Status reopen();

  const std::filesystem::path& path() const { return path_; }

 private:
  CriLogWriter(std::filesystem::path path, UniqueFd fd, Clock clock, std::size_t maxLine);
  void appendRecord(std::string& out, std::string_view timestamp, LogStream stream,
                    std::string_view content, bool partial);
  [[nodiscard]] Status flush(std::string& out);

  std::filesystem::path path_;
  UniqueFd fd_;
  Clock clock_;
  std::size_t maxLine_;
  std::array<std::string, 2> pending_;  // per stream: output since the last newline
};

}  // namespace berth::shim
