#pragma once
// Kubernetes' remote command protocol (kubectl exec/attach, CRI Exec/Attach URLs). Over SPDY the
// client upgrades with X-Stream-Protocol-Version offers, then opens one stream per channel
// (header streamtype: error, stdin, stdout, stderr, resize); over WebSocket the channels are
// numbered in every message (remote_command_websocket.cpp). The server runs the command with
// pipes wired to the channels and reports the outcome on the error channel: a metav1.Status
// JSON (v4 and v5: exit codes as NonZeroExitCode) or plain text (older versions).
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/http_request.h"

namespace berth::shim {

inline constexpr std::string_view kRemoteCommandV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV3 = "v3.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV2 = "v2.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV1 = "channel.k8s.io";
// How long the peer has to close after we closed (GOAWAY or a close frame).
inline constexpr std::chrono::milliseconds kRemoteCommandCloseGrace{5000};

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

// The channels of a remote command, numbered as the WebSocket protocols number them (SPDY names
// its streams instead).
enum class CommandChannel : std::uint8_t { kStdin, kStdout, kStderr, kError, kResize };
inline constexpr std::size_t kCommandChannels = 5;

// What SPDY and WebSocket sessions share: the pipes behind CommandStreams, the client's stdin and
// resize input, output forwarding, and the outcome report for the error channel.
class CommandSession {
 public:
  // Sends output on a channel; `fin` ends the channel. False once the client is gone.
  using Send = std::function<bool(CommandChannel channel, std::string_view data, bool fin)>;

  // The pipes of the channels `options` asks for; a resize channel for a tty when `resizable`.
  [[nodiscard]] static Result<std::unique_ptr<CommandSession>> create(
      const RemoteCommandOptions& options, bool resizable);
  // Whether the session uses the channel (error: always).
  bool wants(CommandChannel channel) const { return wanted_[static_cast<int>(channel)]; }

  // Input from the client, on the transport's reader thread only.
  void input(CommandChannel channel, std::string_view data);
  void endInput(CommandChannel channel);  // stdin's EOF
  void clientGone();                      // every input ends

  // Runs the command with its output sent through `send` until every write end is closed, and
  // returns the error channel's report: the metav1.Status JSON when `statusJson` (v4 and later),
  // else the failure as text ("" on success).
  std::string run(const CommandRunner& runner, const Send& send, bool statusJson);

 private:
  CommandSession() = default;

  std::array<bool, kCommandChannels> wanted_{};
  CommandStreams streams_;
  UniqueFd stdinWrite_;
  UniqueFd stdoutRead_;
  UniqueFd stderrRead_;
  std::string resizeBuf_;
  ResizeQueue resizes_;
};

// Serves one SPDY connection: answers the handshake on `socket` (101, or an HTTP error when no
// protocol is in common), waits for the streams, runs the command, reports, closes.
[[nodiscard]] Status serveRemoteCommand(UniqueFd socket, const HttpRequest& request,
                                        std::string pending, const RemoteCommandOptions& options,
                                        const CommandRunner& run);

// Serves one WebSocket connection (v5/v4/v1 channel.k8s.io and their base64 variants, as the
// kubelet's wsstream server): the handshake, the command, the report on channel 3, close 1000.
[[nodiscard]] Status serveRemoteCommandWebSocket(UniqueFd socket, const HttpRequest& request,
                                                 std::string pending,
                                                 const RemoteCommandOptions& options,
                                                 const CommandRunner& run);

// The v4 status JSON for an outcome (exposed for tests).
std::string remoteCommandStatusJson(const CommandOutcome& outcome);

}  // namespace berth::shim
