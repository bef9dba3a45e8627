#include "common/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>

#include <cstdio>
#include <cstdlib>

namespace berth {

Result<NetNs> NetNs::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failErrno("open netns " + path);
  UniqueFd owner(fd);
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return failErrno("statfs " + path);
  if (st.f_type != NSFS_MAGIC && st.f_type != PROC_SUPER_MAGIC) {
    return fail(Code::kInvalidArgument, "{} is not a network namespace", path);
  }
  return NetNs(std::move(owner), path);
}

Result<NetNs> NetNs::current() {
  return open("/proc/thread-self/ns/net");
}

Result<NetNsGuard> NetNsGuard::enter(const NetNs& target) {
  auto origin = BERTH_TRY(NetNs::current());
  if (::setns(target.fd(), CLONE_NEWNET) != 0) return failErrno("enter netns " + target.path());
  int fd = ::fcntl(origin.fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    if (::setns(origin.fd(), CLONE_NEWNET) != 0) std::abort();
    return failErrno(err, "dup netns fd");
  }
  return NetNsGuard(UniqueFd(fd));
}

NetNsGuard::~NetNsGuard() {
  if (!origin_.valid()) return;
  if (::setns(origin_.get(), CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "berth: cannot return to the original network namespace\n");
    std::abort();
  }
}

}  // namespace berth
