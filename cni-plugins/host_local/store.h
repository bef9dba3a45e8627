#pragma once
// host-local's on-disk store, the reference plugin's layout so either plugin can take over a
// node's allocations:
//
//   <dataDir>/<network>/
//     lock                  flock(LOCK_EX) held for a whole ADD/DEL/GC
//     <ip>                  one per allocated address: "<containerID>\r\n<ifname>"
//     last_reserved_ip.<n>  the last address handed out from range set n
//
// A store is only usable while locked: open() takes the lock, the destructor drops it.

#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::cni::hostlocal {

struct Allocation {
  IpAddr ip;
  std::string containerId;
  std::string ifname;  // empty for files written before ifnames were recorded
};

class Store {
 public:
  // Creates <dataDir>/<network> and takes its lock (blocking).
  [[nodiscard]] static Result<Store> open(const std::string& dataDir, const std::string& network);

  const std::string& dir() const { return dir_; }
  // Creates the address's file exclusively: false when it is already taken.
  [[nodiscard]] Result<bool> reserve(const std::string& id, const std::string& ifname,
                                     const IpAddr& ip, size_t rangeSet);
  // The last address handed out from range set n, if recorded.
  std::optional<IpAddr> lastReserved(size_t rangeSet) const;
  // Removes one address' file (rollback of a half-done ADD).
  void release(const IpAddr& ip);
  // Every address held by id+ifname (or by id alone in the old format).
  [[nodiscard]] Result<std::vector<IpAddr>> getById(const std::string& id,
                                                    const std::string& ifname) const;
  // Removes them; nothing held is success (DEL is idempotent).
  [[nodiscard]] Status releaseById(const std::string& id, const std::string& ifname);
  [[nodiscard]] Result<std::vector<Allocation>> list() const;

 private:
  [[nodiscard]] Status overwrite(const std::string& name, std::string_view content);
  Store(std::string dir, UniqueFd dirFd, UniqueFd lock)
      : dir_(std::move(dir)), dirFd_(std::move(dirFd)), lock_(std::move(lock)) {}

  std::string dir_;
  UniqueFd dirFd_;
  UniqueFd lock_;
};

}  // namespace berth::cni::hostlocal
