#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace berth {
namespace {

// A sockaddr_un for path; `dir` keeps the parent directory open while a long path is used
// through /proc/self/fd.
struct UnixAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
  UniqueFd dir;
};

Result<UnixAddress> makeAddress(std::string_view path) {
  UnixAddress a;
  a.addr.sun_family = AF_UNIX;
  if (path.empty()) return fail(Code::kInvalidArgument, "empty unix socket path");
  std::string target(path);
  if (path.size() >= sizeof a.addr.sun_path && path[0] != '@') {
    std::filesystem::path p(path);
    a.dir = UniqueFd(::open(p.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!a.dir) return failErrno(fmt::format("open {}", p.parent_path().string()));
    target = fmt::format("/proc/self/fd/{}/{}", a.dir.get(), p.filename().string());
  }
  if (target.size() >= sizeof a.addr.sun_path)
    return fail(Code::kInvalidArgument, "unix socket path too long: {}", path);
  std::memcpy(a.addr.sun_path, target.data(), target.size());
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.size() + 1);
  if (target[0] == '@') {
    a.addr.sun_path[0] = '\0';  // abstract: the name has no terminating NUL
    --a.len;
  }
  return a;
}

}  // namespace

Result<UniqueFd> connectUnix(std::string_view path, int type) {
  UnixAddress a = BERTH_TRY(makeAddress(path));
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) return failErrno("socket");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return failErrno(fmt::format("connect to {}", path));
  return fd;
}

Result<UniqueFd> listenUnix(std::string_view path, int type, int backlog) {
  UnixAddress a = BERTH_TRY(makeAddress(path));
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) return failErrno("socket");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len) < 0) {
    Error e = errnoError(errno, fmt::format("bind {}", path));
    if (e.sysErrno() == EADDRINUSE)
      return std::unexpected(Error(Code::kAlreadyExists, e.message(), EADDRINUSE));
    return std::unexpected(std::move(e));
  }
  if (::listen(fd.get(), backlog) < 0) return failErrno(fmt::format("listen on {}", path));
  return fd;
}

Result<UniqueFd> receiveFd(int sock) {
  char data[256];
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failErrno("receive fd");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return UniqueFd(fd);
    }
  }
  return fail(Code::kInternal, "no file descriptor received");
}

}  // namespace berth
