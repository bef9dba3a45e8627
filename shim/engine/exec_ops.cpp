// Engine: ExecSync, the streaming Exec/Attach/PortForward sessions, and the monitor's control
// requests (see engine.h).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <thread>

#include "common/file_util.h"
#include "common/netns.h"
#include "common/scope_guard.h"
#include "common/unix_socket.h"
#include "ocispec/spec_json.h"
#include "shim/engine/engine.h"
#include "shim/monitor/monitor_protocol.h"

namespace berth::cri {

namespace {

// Go's %v of a []string, as containerd's exec error says it: "[sh -c exit 3]".
std::string goList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? " " : "") + v[i];
  return out + "]";
}

Result<UniqueFd> openDevNull() {
  UniqueFd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fd) return failErrno("open /dev/null");
  return fd;
}

// Copies from `from` to `to` until EOF or an error on either side, or until `stop` becomes
// readable (its write end closed).
// At most `chunk` bytes per write (a SEQPACKET peer reads one message per frame).
void pump(int from, int to, int stop = -1, size_t chunk = 16384) {
  char buf[16384];
  chunk = std::min(chunk, sizeof buf);
  for (;;) {
    pollfd p[2] = {{from, POLLIN, 0}, {stop, POLLIN, 0}};
    if (::poll(p, stop >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (stop >= 0 && p[1].revents) return;
    ssize_t n = ::read(from, buf, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (!writeAll(to, std::string_view(buf, static_cast<size_t>(n)))) return;
  }
}

}  // namespace

// The exec process: the container's own process with the new args, as containerd builds it.
static Result<std::string> execProcessFile(const std::filesystem::path& stateDir,
                                           const std::vector<std::string>& cmd, bool tty) {
  auto text = BERTH_TRY(readFile(stateDir / "config.json"));
  auto spec = BERTH_TRY_CTX(ocispec::parseSpec(text), "container spec");
  if (!spec.process) return fail(Code::kInternal, "container spec has no process");
  ocispec::Process p = *spec.process;
  p.args = cmd;
  p.terminal = tty;
  p.consoleSize.reset();
  std::filesystem::path file = stateDir / fmt::format("exec-{}.json", newId().substr(0, 16));
  BERTH_TRY(writeFileAtomic(file, ocispec::toJson(p).dump(), 0600));
  return file.string();
}

Status Engine::execSync(const v1::ExecSyncRequest& request, v1::ExecSyncResponse* out) {
  if (request.cmd().empty()) return fail(Code::kInvalidArgument, "cmd: required");
  auto c = BERTH_TRY(findContainer(request.container_id()));
  std::string id, handler;
  {
    std::lock_guard lock(mu_);
    if (stateOf(*c) != v1::CONTAINER_RUNNING) {
      return fail(Code::kFailedPrecondition, "container {} is not running", c->rec.id);
    }
    id = c->rec.id;
    handler = c->rec.runtimeHandler;
  }
  auto runtime = BERTH_TRY(runtimeFor(handler));
  std::vector<std::string> cmd(request.cmd().begin(), request.cmd().end());
  std::filesystem::path stateDir = containerStateDir(id);
  std::string processFile = BERTH_TRY(execProcessFile(stateDir, cmd, false));
  std::string pidFile = processFile + ".pid";
  auto cleanup = defer([&] {
    ::unlink(processFile.c_str());
    ::unlink(pidFile.c_str());
  });
  std::optional<std::chrono::milliseconds> timeout;
  if (request.timeout() > 0) timeout = std::chrono::seconds(request.timeout());
  auto r = BERTH_TRY(runtime.runExec({id, processFile, pidFile, "", {}}, timeout));
  out->set_stdout(r.stdoutData);
  out->set_stderr(r.stderrData);
  out->set_exit_code(r.status.code);
  return {};
}

Result<std::string> Engine::execUrl(const v1::ExecRequest& request) {
  if (request.cmd().empty()) return fail(Code::kInvalidArgument, "cmd: required");
  if (!request.stdin() && !request.stdout() && !request.stderr()) {
    return fail(Code::kInvalidArgument, "one of stdin, stdout, or stderr must be set");
  }
  if (request.tty() && request.stderr()) {
    return fail(Code::kInvalidArgument, "tty and stderr cannot both be true");
  }
  auto c = BERTH_TRY(findContainer(request.container_id()));
  shim::ExecRequest r;
  {
    std::lock_guard lock(mu_);
    if (stateOf(*c) != v1::CONTAINER_RUNNING) {
      return fail(Code::kFailedPrecondition, "container {} is not running", c->rec.id);
    }
    r.containerId = c->rec.id;
  }
  r.cmd.assign(request.cmd().begin(), request.cmd().end());
  r.tty = request.tty();
  r.stdin = request.stdin();
  r.stdout = request.stdout();
  r.stderr = request.stderr();
  auto* server = BERTH_TRY(streaming());
  return server->execUrl(std::move(r));
}

Result<std::string> Engine::attachUrl(const v1::AttachRequest& request) {
  if (!request.stdin() && !request.stdout() && !request.stderr()) {
    return fail(Code::kInvalidArgument, "one of stdin, stdout, or stderr must be set");
  }
  auto c = BERTH_TRY(findContainer(request.container_id()));
  shim::AttachRequest r;
  {
    std::lock_guard lock(mu_);
    if (stateOf(*c) != v1::CONTAINER_RUNNING) {
      return fail(Code::kFailedPrecondition, "container {} is not running", c->rec.id);
    }
    r.containerId = c->rec.id;
    r.tty = c->rec.config.tty();
  }
  r.stdin = request.stdin();
  r.stdout = request.stdout();
  r.stderr = request.stderr() && !r.tty;
  auto* server = BERTH_TRY(streaming());
  return server->attachUrl(std::move(r));
}

Result<std::string> Engine::portForwardUrl(const v1::PortForwardRequest& request) {
  auto pod = BERTH_TRY(findPod(request.pod_sandbox_id()));
  shim::PortForwardRequest r;
  {
    std::lock_guard lock(mu_);
    if (pod->rec.phase != Phase::kReady) {
      return fail(Code::kFailedPrecondition, "pod sandbox {} is not ready", pod->rec.id);
    }
    r.podSandboxId = pod->rec.id;
  }
  auto* server = BERTH_TRY(streaming());
  return server->portForwardUrl(std::move(r));
}

shim::CommandOutcome Engine::exec(const shim::ExecRequest& request, shim::CommandStreams& streams) {
  auto outcome = [&]() -> Result<shim::CommandOutcome> {
    auto c = BERTH_TRY(findContainer(request.containerId));
    auto runtime = BERTH_TRY(runtimeFor(c->rec.runtimeHandler));
    std::filesystem::path stateDir = containerStateDir(c->rec.id);
    std::string processFile = BERTH_TRY(execProcessFile(stateDir, request.cmd, request.tty));
    std::string pidFile = processFile + ".pid";
    auto cleanup = defer([&] {
      ::unlink(processFile.c_str());
      ::unlink(pidFile.c_str());
    });
    auto devNull = BERTH_TRY(openDevNull());
    OciRuntime::ExecArgs args{c->rec.id, processFile, pidFile, "", {}};
    int code = 0;
    if (!request.tty) {
      args.stdio = {streams.stdinRead ? streams.stdinRead.get() : devNull.get(),
                    streams.stdoutWrite ? streams.stdoutWrite.get() : devNull.get(),
                    streams.stderrWrite ? streams.stderrWrite.get() : devNull.get()};
      ChildProcess child = BERTH_TRY(runtime.startExec(args));
      // The runtime and the command hold the streams now; ours would keep them open.
      streams.stdinRead.reset();
      streams.stdoutWrite.reset();
      streams.stderrWrite.reset();
      code = BERTH_TRY(child.wait()).code;
    } else {
      // The runtime sends the pty master over a console socket of ours.
      args.consoleSocket = processFile + ".sock";
      auto listener = BERTH_TRY(listenUnix(args.consoleSocket));
      auto unlinkSocket = defer([&] { ::unlink(args.consoleSocket.c_str()); });
      args.stdio = {devNull.get(), devNull.get(), devNull.get()};
      ChildProcess child = BERTH_TRY(runtime.startExec(args));  // killed on any early return
      pollfd p{listener.get(), POLLIN, 0};
      if (::poll(&p, 1, 30000) <= 0) return fail(Code::kInternal, "the runtime sent no terminal");
      UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return failErrno("accept the console socket");
      auto master = BERTH_TRY(receiveFd(conn.get()));
      int masterFd = master.get();
      auto [stopRead, stopWrite] = BERTH_TRY(makePipe());
      std::thread input, resizer;
      if (streams.stdinRead) {
        input = std::thread([fd = streams.stdinRead.get(), masterFd, stop = stopRead.get()] {
          pump(fd, masterFd, stop);
        });
      }
      if (streams.resizes) {
        resizer = std::thread([&] {
          while (auto size = streams.resizes->pop()) {
            winsize ws{};
            ws.ws_row = size->height;
            ws.ws_col = size->width;
            ::ioctl(masterFd, TIOCSWINSZ, &ws);
          }
        });
      }
      if (streams.stdoutWrite) pump(masterFd, streams.stdoutWrite.get());
      code = BERTH_TRY(child.wait()).code;
      streams.stdoutWrite.reset();
      if (streams.resizes) streams.resizes->close();
      if (resizer.joinable()) resizer.join();
      // The client's stdin may stay open after the command ended: stop reading it.
      stopWrite.reset();
      if (input.joinable()) input.join();
    }
    shim::CommandOutcome o;
    o.exitCode = code;
    o.exitDetail =
        fmt::format("error executing command {}, exit code {}", goList(request.cmd), code);
    return o;
  }();
  if (!outcome) return shim::CommandOutcome{.exitCode = -1, .error = outcome.error().message()};
  return *outcome;
}

shim::CommandOutcome Engine::attach(const shim::AttachRequest& request,
                                    shim::CommandStreams& streams) {
  auto run = [&]() -> Status {
    std::filesystem::path dir = containerStateDir(request.containerId);
    auto conn = BERTH_TRY_CTX(
        connectUnix((dir / std::string(shim::kAttachSocketName)).string(), SOCK_SEQPACKET),
        "connect to the container's monitor");
    int sock = conn.get();
    auto [stopRead, stopWrite] = BERTH_TRY(makePipe());
    std::thread input, resizer;
    if (streams.stdinRead) {
      input = std::thread([fd = streams.stdinRead.get(), sock, stop = stopRead.get()] {
        pump(fd, sock, stop, shim::kAttachFrameSize);
        ::shutdown(sock, SHUT_WR);
      });
    }
    if (streams.resizes) {
      resizer = std::thread([&] {
        auto ctl = connectUnix((dir / std::string(shim::kCtlSocketName)).string(), SOCK_SEQPACKET);
        while (auto size = streams.resizes->pop()) {
          if (!ctl) continue;
          std::string req = fmt::format("{} {} {}", shim::kCtlResize, size->height, size->width);
          ::send(ctl->get(), req.data(), req.size(), MSG_NOSIGNAL);
          char reply[256];
          (void)::recv(ctl->get(), reply, sizeof reply, 0);
        }
      });
    }
    std::vector<char> frame(shim::kAttachFrameSize + 1);
    for (;;) {
      ssize_t n = ::recv(sock, frame.data(), frame.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      int to =
          frame[0] == shim::kAttachStderr ? streams.stderrWrite.get() : streams.stdoutWrite.get();
      if (to < 0) continue;
      if (!writeAll(to, std::string_view(frame.data() + 1, static_cast<size_t>(n - 1)))) break;
    }
    streams.stdoutWrite.reset();
    streams.stderrWrite.reset();
    if (streams.resizes) streams.resizes->close();
    if (resizer.joinable()) resizer.join();
    stopWrite.reset();
    if (input.joinable()) input.join();
    return {};
  };
  auto r = run();
  if (!r) return shim::CommandOutcome{.exitCode = -1, .error = r.error().message()};
  return {};
}

Status Engine::portForward(const std::string& podSandboxId, std::int32_t port, UniqueFd stream) {
  auto pod = BERTH_TRY(findPod(podSandboxId));
  std::string netns;
  {
    std::lock_guard lock(mu_);
    netns = pod->rec.netns;
  }
  UniqueFd sock;
  {
    // The socket belongs to the namespace it was made in; this thread comes straight back.
    if (!netns.empty()) {
      auto ns = BERTH_TRY(NetNs::open(netns));
      auto in = BERTH_TRY(NetNsGuard::enter(ns));
      sock.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    } else {
      sock.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    }
  }
  if (!sock) return failErrno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return failErrno(fmt::format("connect to port {} in pod sandbox {}", port, podSandboxId));
  }
  int a = stream.get(), b = sock.get();
  std::thread up([a, b] {
    pump(a, b);
    ::shutdown(b, SHUT_WR);
  });
  pump(b, a);
  ::shutdown(a, SHUT_WR);
  up.join();
  return {};
}

Status Engine::reopenContainerLog(const std::string& id) {
  auto c = BERTH_TRY(findContainer(id));
  {
    std::lock_guard lock(mu_);
    if (stateOf(*c) != v1::CONTAINER_RUNNING) {
      return fail(Code::kFailedPrecondition, "container {} is not running", c->rec.id);
    }
  }
  auto ctl = BERTH_TRY(connectUnix(
      (containerStateDir(c->rec.id) / std::string(shim::kCtlSocketName)).string(), SOCK_SEQPACKET));
  if (::send(ctl.get(), shim::kCtlReopen.data(), shim::kCtlReopen.size(), MSG_NOSIGNAL) < 0) {
    return failErrno("ask the monitor to reopen the log");
  }
  char reply[512];
  ssize_t n = ::recv(ctl.get(), reply, sizeof reply, 0);
  if (n <= 0) return fail(Code::kInternal, "the monitor closed without answering");
  std::string_view answer(reply, static_cast<size_t>(n));
  if (answer != shim::kCtlOk) return fail(Code::kInternal, "reopen the log: {}", answer);
  return {};
}

}  // namespace berth::cri
