#pragma once
// The HTTP server behind the URLs that CRI Exec, Attach and PortForward return (the kubelet's
// cri/streaming server): a request is cached under a one-time token, the client (kubelet,
// kubectl through the apiserver, crictl, critest) connects to /exec/<token> or /attach/<token>
// (or /portforward/<token>) and upgrades to SPDY, and the runtime's handler runs with pipes or
// sockets wired to the client's streams.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/remote_command.h"

namespace berth::shim {

struct ExecRequest {
  std::string containerId;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
};

struct AttachRequest {
  std::string containerId;
  bool tty = false;
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
};

struct PortForwardRequest {
  std::string podSandboxId;
};

// What berth-cri provides: run the request with the client's streams until it ends.
class StreamingRuntime {
 public:
  virtual ~StreamingRuntime() = default;
  virtual CommandOutcome exec(const ExecRequest& request, CommandStreams& streams) = 0;
  virtual CommandOutcome attach(const AttachRequest& request, CommandStreams& streams) = 0;
  // Connects `stream` to the port inside the pod's network namespace until either side is done.
  virtual Status portForward(const std::string& podSandboxId, std::int32_t port,
                             UniqueFd stream) = 0;
};

class StreamingServer {
 public:
  // The kubelet's streaming defaults: tokens live a minute, at most 1000 wait at once.
  static constexpr std::chrono::seconds kTokenTtl{60};
  static constexpr std::size_t kMaxInFlight = 1000;

  // address: "host:port" with a numeric IPv4/IPv6 host (port 0: any free port).
  [[nodiscard]] static Result<std::unique_ptr<StreamingServer>> start(std::string_view address,
                                                                      StreamingRuntime& runtime);
  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;
  // Stops accepting, ends open sessions, joins every thread.
  ~StreamingServer();

  // "http://127.0.0.1:<port>"
  const std::string& baseUrl() const { return baseUrl_; }
  [[nodiscard]] Result<std::string> execUrl(ExecRequest request);
  [[nodiscard]] Result<std::string> attachUrl(AttachRequest request);
  [[nodiscard]] Result<std::string> portForwardUrl(PortForwardRequest request);

 private:
  using Request = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;
  struct Cached {
    Request request;
    std::chrono::steady_clock::time_point expires;
  };
  struct Session {
    std::thread thread;
    int fd = -1;  // borrowed, for shutdown on stop
    std::atomic<bool> done{false};
  };

  StreamingServer(UniqueFd listener, StreamingRuntime& runtime, std::string baseUrl);
  [[nodiscard]] Result<std::string> insert(Request request, std::string_view kind);
  std::optional<Request> consume(const std::string& token);
  void acceptLoop();
  void serve(UniqueFd conn, Session* session);
  void reapFinished();

  UniqueFd listener_;
  UniqueFd wake_;  // eventfd: stop the accept loop
  StreamingRuntime& runtime_;
  std::string baseUrl_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
};

}  // namespace berth::shim
