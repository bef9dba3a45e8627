#include "tests/bench/tools/veth_floor.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "common/netlink.h"
#include "common/netns.h"
#include "common/scope_guard.h"
#include "common/unique_fd.h"

namespace berth::bench {

namespace {

using Clock = std::chrono::steady_clock;

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// A new network namespace, held only by the returned fd: made by a thread of its own, whose
// reference goes when it ends.
Result<UniqueFd> freshNetns() {
  UniqueFd fd;
  int err = 0;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd) err = errno;
  }).join();
  if (err) return failErrno(err, "new network namespace");
  return fd;
}

}  // namespace

Result<VethFloor> measureVethFloor(int cycles, const std::string& podNetns,
                                   const std::string& hostName) {
  auto nl = BERTH_TRY(MnlNetlink::open());
  std::optional<NetNs> shared;
  if (!podNetns.empty()) shared = BERTH_TRY(NetNs::open(podNetns));
  std::vector<double> creates, deletes;
  auto start = Clock::now();
  for (int i = 0; i < cycles; ++i) {
    UniqueFd own;
    if (!shared) own = BERTH_TRY(freshNetns());
    int nsFd = shared ? shared->fd() : own.get();
    auto t0 = Clock::now();
    BERTH_TRY(nl->createVeth({.name = hostName, .peerName = "floor0", .peerNetnsFd = nsFd}));
    auto t1 = Clock::now();
    // The pair's one owner until it is deleted: on any error, deleting one end takes the other.
    auto pair = defer([&] {
      if (auto l = nl->linkByName(hostName); l && *l) (void)nl->deleteLink((*l)->index);
    });
    auto link = BERTH_TRY(nl->linkByName(hostName));
    if (!link) return fail(Code::kInternal, "veth {} vanished after it was made", hostName);
    auto t2 = Clock::now();
    BERTH_TRY(nl->deleteLink(link->index));
    pair.cancel();
    auto t3 = Clock::now();
    creates.push_back(msBetween(t0, t1));
    deletes.push_back(msBetween(t2, t3));
  }
  return VethFloor{.cycleMs = msBetween(start, Clock::now()) / cycles,
                   .createMs = median(creates),
                   .deleteMs = median(deletes)};
}

}  // namespace berth::bench
