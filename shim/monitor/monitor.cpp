#include "shim/monitor/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/scope_guard.h"
#include "shim/monitor/monitor_protocol.h"

namespace berth::shim {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Input held for a container that does not read its stdin fast enough; more is dropped.
constexpr std::size_t kMaxPendingStdin = 1 << 20;
// After the init exits, output still buffered (or held open by processes it left in a shared
// PID namespace) is read for at most this long.
constexpr std::chrono::milliseconds kDrainLimit{2000};

std::filesystem::path pidFileOf(const MonitorOptions& o) {
  return o.socketDir / "pid";
}

std::int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Reads what is available on a non-blocking fd (the runtime's error text).
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while (out.size() < 64 * 1024 && (n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

Result<pid_t> readPidFile(const std::filesystem::path& path) {
  std::string text = BERTH_TRY(readFile(path));
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || pid <= 0)
    return fail(Code::kInternal, "pid file {}: not a pid: \"{}\"", path.string(), text);
  return pid;
}

// Runs `<runtime> <global args> create ...` with stdio as its fds 0-2 and waits for it.
// Whether the bundle's container has no PID namespace of its own (none listed: the node's; one
// with a path: the pod's).
bool sharesPidNamespace(const std::filesystem::path& bundle) {
  auto text = readFile(bundle / "config.json");
  if (!text) return false;
  auto spec = nlohmann::json::parse(*text, nullptr, false);
  if (!spec.is_object() || !spec.contains("linux")) return false;
  const auto& linux = spec["linux"];
  if (!linux.is_object() || !linux.contains("namespaces")) return true;
  for (const auto& ns : linux["namespaces"]) {
    if (ns.is_object() && ns.value("type", "") == "pid") return !ns.value("path", "").empty();
  }
  return true;
}

Result<ExitStatus> runRuntimeCreate(const MonitorOptions& o, const ContainerStdio& stdio) {
  std::vector<std::string> args{o.runtimePath};
  args.insert(args.end(), o.runtimeArgs.begin(), o.runtimeArgs.end());
  for (const char* a : {"create", "--bundle"})
    args.emplace_back(a);
  args.push_back(o.bundle.string());
  args.emplace_back("--pid-file");
  args.push_back(pidFileOf(o).string());
  if (stdio.consoleSocket()) {
    args.emplace_back("--console-socket");
    args.push_back(stdio.consoleSocket()->string());
  }
  args.push_back(o.id);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::array<int, 3> fds = stdio.childFds();

  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    // The child ends are close-on-exec above 2; dup2 clears the flag on the copies.
    for (int i = 0; i < 3; ++i) {
      if (fds[i] == i)
        ::fcntl(i, F_SETFD, 0);
      else
        ::dup2(fds[i], i);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ChildProcess runtime(pid);
  return runtime.wait();
}

}  // namespace

Monitor::Monitor(const MonitorOptions& options, EventLoop loop, CriLogWriter log, UniqueFd signalFd)
    : options_(options),
      loop_(std::move(loop)),
      log_(std::move(log)),
      signalFd_(std::move(signalFd)),
      buffer_(kReadChunk) {}

Monitor::~Monitor() {
  attach_.reset();
  ctl_.reset();
  ::unlink(pidFileOf(options_).c_str());
}

Result<std::unique_ptr<Monitor>> Monitor::create(const MonitorOptions& options) {
  // Nothing is left behind on failure: the socket dir goes too when this call made it.
  bool madeDir = !std::filesystem::exists(options.socketDir);
  BERTH_TRY_CTX(makeDirs(options.socketDir, 0700), "socket dir");
  auto removeDir = defer([&] {
    if (madeDir) (void)removeAll(options.socketDir);
  });
  CriLogWriter log = BERTH_TRY(CriLogWriter::open(options.logPath, {}, options.maxLogLine));
  // SIGCHLD through a signalfd: the init's exit is one more event of the loop.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return failErrno("block SIGCHLD");
  UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return failErrno("signalfd");
  // The init is the runtime's grandchild: once the runtime exits, it is ours to reap.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return failErrno("become child subreaper");
  EventLoop loop = BERTH_TRY(EventLoop::create());
  std::unique_ptr<Monitor> m(new Monitor(options, std::move(loop), std::move(log), std::move(sfd)));
  BERTH_TRY(m->setUpServers());
  BERTH_TRY(m->startRuntime());
  removeDir.cancel();
  return m;
}

Status Monitor::setUpServers() {
  attach_ = BERTH_TRY_CTX(
      PacketServer::listen(
          loop_, options_.socketDir / kAttachSocketName,
          [this](int, std::string_view data) { onInput(data); }, [this](int) { onAttachDetach(); }),
      "attach socket");
  ctl_ = BERTH_TRY_CTX(
      PacketServer::listen(loop_, options_.socketDir / kCtlSocketName,
                           [this](int client, std::string_view req) { onControl(client, req); }),
      "ctl socket");
  return {};
}

Status Monitor::startRuntime() {
  std::optional<std::filesystem::path> console;
  if (options_.terminal) console = options_.socketDir / "console.sock";
  stdio_ = BERTH_TRY(ContainerStdio::create(options_.terminal, options_.stdin, console));
  ExitStatus status = BERTH_TRY(runRuntimeCreate(options_, *stdio_));
  if (!status.success()) {
    std::string text = drain(stdio_->stderrFd());
    if (status.code == 127 && text.empty())
      return fail(Code::kFailedPrecondition, "cannot run the runtime {}", options_.runtimePath);
    return fail(Code::kUnknown, "{} create {}: {}", options_.runtimePath, options_.id,
                text.empty() ? fmt::format("exit status {}", status.code) : text);
  }
  BERTH_TRY(stdio_->takeOver());
  pid_ = BERTH_TRY(readPidFile(pidFileOf(options_)));
  sharedPidNamespace_ = sharesPidNamespace(options_.bundle);
  return {};
}

// When the init of a container without its own PID namespace exits, its other processes live on
// (no namespace teardown kills them) and may hold its stdout: `runtime kill --all` ends them, as
// containerd's runc shim does (ShouldKillAllOnExit), so the exit is not held up by the drain.
void Monitor::killTheRest() {
  std::vector<std::string> args{options_.runtimePath};
  args.insert(args.end(), options_.runtimeArgs.begin(), options_.runtimeArgs.end());
  for (const char* a : {"kill", "--all"})
    args.emplace_back(a);
  args.push_back(options_.id);
  args.emplace_back("KILL");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Status Monitor::watchOutput() {
  for (auto [fd, stream] : {std::pair{stdio_->stdoutFd(), LogStream::kStdout},
                            std::pair{stdio_->stderrFd(), LogStream::kStderr}}) {
    if (fd < 0) continue;
    BERTH_TRY(loop_.add(fd, EPOLLIN, [this, fd, stream](std::uint32_t) { onOutput(fd, stream); }));
    ++openOutputs_;
  }
  return loop_.add(signalFd_.get(), EPOLLIN, [this](std::uint32_t) { onSignal(); });
}

void Monitor::onOutput(int fd, LogStream stream) {
  ssize_t n = ::read(fd, buffer_.data(), buffer_.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // EOF, or EIO from a pty master whose last slave closed
    outputEnded(stream);
    return;
  }
  std::string_view data(buffer_.data(), static_cast<std::size_t>(n));
  if (auto w = log_.write(stream, data); !w)
    std::fprintf(stderr, "berth-monitor: %s\n", w.error().message().c_str());
  if (attach_->clientCount() == 0) return;
  std::string frame;
  std::uint8_t tag = stream == LogStream::kStdout ? kAttachStdout : kAttachStderr;
  for (std::size_t off = 0; off < data.size(); off += kAttachFrameSize) {
    frame.assign(1, static_cast<char>(tag));
    frame.append(data.substr(off, kAttachFrameSize));
    attach_->sendAll(frame);
  }
}

void Monitor::outputEnded(LogStream stream) {
  int fd = stream == LogStream::kStdout ? stdio_->stdoutFd() : stdio_->stderrFd();
  loop_.remove(fd);
  if (auto w = log_.finish(stream); !w)
    std::fprintf(stderr, "berth-monitor: %s\n", w.error().message().c_str());
  if (stream == LogStream::kStdout)
    stdio_->closeStdout();
  else
    stdio_->closeStderr();
  --openOutputs_;
}

void Monitor::onInput(std::string_view data) {
  if (stdio_->stdinFd() < 0 || stdinOnceDone_) return;
  if (stdinPending_.size() + data.size() > kMaxPendingStdin) {
    std::fprintf(stderr, "berth-monitor: container %s does not read stdin; input dropped\n",
                 options_.id.c_str());
    return;
  }
  stdinPending_.append(data);
  flushStdin();
}

void Monitor::flushStdin() {
  int fd = stdio_->stdinFd();
  if (fd < 0) return;
  while (!stdinPending_.empty()) {
    ssize_t n = ::write(fd, stdinPending_.data(), stdinPending_.size());
    if (n > 0) {
      stdinPending_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // The pty master is also the output fd: it is already watched for input; a pipe gets
      // EPOLLOUT until the container takes the rest.
      if (!stdio_->terminal() && !loop_.contains(fd))
        (void)loop_.add(fd, EPOLLOUT, [this](std::uint32_t) { flushStdin(); });
      return;
    }
    stdinPending_.clear();  // EPIPE: the container closed its stdin
  }
  if (!stdio_->terminal()) loop_.remove(fd);
  if (stdinClosePending_) {
    stdio_->closeStdin();
    stdinOnceDone_ = true;
  }
}

void Monitor::onAttachDetach() {
  // CRI: with StdinOnce, stdin is closed after the first attach session completes.
  if (!options_.stdinOnce || stdinOnceDone_ || attach_->clientCount() != 0) return;
  stdinClosePending_ = true;
  flushStdin();
}

void Monitor::onControl(int client, std::string_view request) {
  auto reply = [&](const Status& s) {
    ctl_->send(client, s ? std::string(kCtlOk) : "error " + s.error().message());
  };
  std::string_view verb = request.substr(0, request.find(' '));
  if (verb == kCtlReopen) {
    reply(log_.reopen());
  } else if (verb == kCtlResize) {
    unsigned rows = 0, cols = 0;
    std::string req(request);
    if (std::sscanf(req.c_str(), "resize %u %u", &rows, &cols) != 2)
      return reply(fail(Code::kInvalidArgument, "resize: want \"resize <rows> <cols>\""));
    if (!stdio_->terminal())
      return reply(fail(Code::kFailedPrecondition, "resize: container has no terminal"));
    winsize ws{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
    if (::ioctl(stdio_->stdoutFd(), TIOCSWINSZ, &ws) < 0) return reply(failErrno("resize"));
    reply({});
  } else if (verb == kCtlCloseStdin) {
    stdinClosePending_ = true;
    flushStdin();
    reply({});
  } else {
    reply(fail(Code::kInvalidArgument, "unknown request \"{}\"", verb));
  }
}

void Monitor::onSignal() {
  signalfd_siginfo info;
  while (::read(signalFd_.get(), &info, sizeof info) == sizeof info) {
  }
  int status;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == pid_) {
      ExitStatus s = ExitStatus::fromWaitStatus(status);
      exit_ = ExitRecord{s.code, s.signal, nowNs()};
    }
  }
}

Result<ExitRecord> Monitor::run() {
  BERTH_TRY(watchOutput());
  onSignal();  // an exit before the loop started
  std::optional<std::chrono::steady_clock::time_point> drainUntil;
  while (!exit_ || openOutputs_ > 0) {
    int timeout = -1;
    if (exit_) {
      auto now = std::chrono::steady_clock::now();
      if (!drainUntil) {
        drainUntil = now + kDrainLimit;
        if (sharedPidNamespace_) killTheRest();
      }
      if (now >= *drainUntil) break;
      timeout =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*drainUntil - now).count());
    }
    BERTH_TRY(loop_.runOnce(timeout));
  }
  for (LogStream s : {LogStream::kStdout, LogStream::kStderr})
    (void)log_.finish(s);
  BERTH_TRY(writeExitRecord(options_.exitFile, *exit_));
  return *exit_;
}

}  // namespace berth::shim
