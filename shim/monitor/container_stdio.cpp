#include "shim/monitor/container_stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/file_util.h"
#include "common/unix_socket.h"

namespace berth::shim {
namespace {

Result<UniqueFd> openDevNull() {
  UniqueFd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fd) return failErrno("open /dev/null");
  return fd;
}

Status setNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return failErrno("set O_NONBLOCK");
  return {};
}

}  // namespace

Result<ContainerStdio> ContainerStdio::create(
    bool terminal, bool withStdin, const std::optional<std::filesystem::path>& consoleSocket) {
  ContainerStdio s;
  s.terminal_ = terminal;
  // Pipe ends are close-on-exec: the runtime gets its ends by dup2, which clears the flag.
  auto makePipe = [](UniqueFd& readEnd, UniqueFd& writeEnd) -> Status {
    auto [r, w] = BERTH_TRY(berth::makePipe());
    readEnd = std::move(r);
    writeEnd = std::move(w);
    return {};
  };
  // stderr is a pipe in both modes: with a terminal it catches the runtime's own errors.
  BERTH_TRY(makePipe(s.err_, s.childErr_));
  if (terminal) {
    if (!consoleSocket) return fail(Code::kInvalidArgument, "terminal needs a console socket path");
    s.childIn_ = BERTH_TRY(openDevNull());
    s.childOut_ = BERTH_TRY(openDevNull());
    s.consoleListener_ = BERTH_TRY(listenUnix(consoleSocket->string(), SOCK_STREAM, 1));
    s.consolePath_ = consoleSocket;
  } else {
    BERTH_TRY(makePipe(s.out_, s.childOut_));
    if (withStdin) {
      BERTH_TRY(makePipe(s.childIn_, s.in_));
      BERTH_TRY(setNonBlocking(s.in_.get()));
    } else {
      s.childIn_ = BERTH_TRY(openDevNull());
    }
    BERTH_TRY(setNonBlocking(s.out_.get()));
  }
  BERTH_TRY(setNonBlocking(s.err_.get()));
  return s;
}

ContainerStdio::~ContainerStdio() {
  if (consolePath_ && consoleListener_) ::unlink(consolePath_->c_str());
}

std::array<int, 3> ContainerStdio::childFds() const {
  return {childIn_.get(), childOut_.get(), childErr_.get()};
}

Status ContainerStdio::takeOver() {
  childIn_.reset();
  childOut_.reset();
  childErr_.reset();
  if (!terminal_) return {};
  // The runtime connected and sent the master before `create` returned: it is queued.
  pollfd p{consoleListener_.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) != 1)
    return fail(Code::kInternal, "the runtime sent no pty master to the console socket");
  UniqueFd conn(::accept4(consoleListener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return failErrno("accept on the console socket");
  ptyMaster_ = BERTH_TRY_CTX(receiveFd(conn.get()), "console socket");
  BERTH_TRY(setNonBlocking(ptyMaster_.get()));
  ::unlink(consolePath_->c_str());
  consoleListener_.reset();
  return {};
}

void ContainerStdio::closeStdout() {
  if (terminal_)
    ptyMaster_.reset();
  else
    out_.reset();
}

void ContainerStdio::closeStdin() {
  if (!terminal_) in_.reset();
}

}  // namespace berth::shim
