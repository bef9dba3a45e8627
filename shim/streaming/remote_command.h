#pragma once
// Kubernetes' remote command protocol (kubectl exec/attach, CRI Exec/Attach URLs) over SPDY:
// the client upgrades with X-Stream-Protocol-Version offers, then opens one stream per channel
// (header streamtype: error, stdin, stdout, stderr, resize). The server runs the command with
// pipes wired to those streams and reports the outcome on the error stream: a metav1.Status
// JSON (v4.channel.k8s.io: exit codes as NonZeroExitCode) or plain text (v1-v3).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/http_request.h"

namespace berth::shim {

inline constexpr std::string_view kRemoteCommandV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV3 = "v3.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV2 = "v2.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV1 = "channel.k8s.io";

struct TerminalSize {
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};

// Terminal sizes the client sends, in order; pop() blocks until one arrives or the session ends.
class ResizeQueue {
 public:
  void push(TerminalSize size);
  void close();
  std::optional<TerminalSize> pop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TerminalSize> sizes_;
  bool closed_ = false;
};

// What a command gets: pipe ends for the channels the client opened (invalid otherwise). The
// runner owns them and must close them (or let its children hold them) when done: output is
// forwarded until every write end is closed.
struct CommandStreams {
  UniqueFd stdinRead;
  UniqueFd stdoutWrite;
  UniqueFd stderrWrite;  // never with a tty: the terminal carries both
  bool tty = false;
  ResizeQueue* resizes = nullptr;  // tty only
};

// Why a command did not succeed, for the error stream.
struct CommandOutcome {
  int exitCode = 0;        // meaningful when error is empty
  std::string error;       // the command could not run at all
  std::string exitDetail;  // "error executing command [sh -c exit 3], exit code 3"
};

using CommandRunner = std::function<CommandOutcome(CommandStreams&)>;

struct RemoteCommandOptions {
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
  bool tty = false;
  std::chrono::milliseconds streamCreationTimeout{30000};
};

// Serves one upgraded connection: answers the handshake on `socket` (101, or an HTTP error when
// no protocol is in common), waits for the streams, runs the command, reports, closes.
[[nodiscard]] Status serveRemoteCommand(UniqueFd socket, const HttpRequest& request,
                                        std::string pending, const RemoteCommandOptions& options,
                                        const CommandRunner& run);

// The v4 status JSON for an outcome (exposed for tests).
std::string remoteCommandStatusJson(const CommandOutcome& outcome);

}  // namespace berth::shim
