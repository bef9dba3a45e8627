#pragma once
// The owner of a network namespace handle (an open nsfs fd), and a guard that enters one with
// setns(2) and comes back to where the thread was when it goes out of scope. CNI plugins are
// single-threaded, so switching the calling thread is switching the process.

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

class NetNs {
 public:
  // Opens a netns file (/var/run/netns/x, /proc/<pid>/ns/net, a bind-mounted nsfs file) and
  // checks it is one.
  [[nodiscard]] static Result<NetNs> open(const std::string& path);
  // The calling thread's current network namespace.
  [[nodiscard]] static Result<NetNs> current();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  NetNs(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// Inside `target` while it lives; back in the original namespace after. A failure to go back is
// a broken invariant (the process would keep running in the wrong namespace): it aborts.
class NetNsGuard {
 public:
  [[nodiscard]] static Result<NetNsGuard> enter(const NetNs& target);
  NetNsGuard(NetNsGuard&& o) noexcept : origin_(std::move(o.origin_)) {}
  NetNsGuard(const NetNsGuard&) = delete;
  NetNsGuard& operator=(const NetNsGuard&) = delete;
  NetNsGuard& operator=(NetNsGuard&&) = delete;
  ~NetNsGuard();

 private:
  explicit NetNsGuard(UniqueFd origin) : origin_(std::move(origin)) {}
  UniqueFd origin_;
};

// Runs f() inside `ns` and returns its result.
template <class F>
auto inNetNs(const NetNs& ns, F&& f) -> decltype(f()) {
  auto guard = NetNsGuard::enter(ns);
  if (!guard) return std::unexpected(std::move(guard).error());
  return f();
}

}  // namespace berth
