#pragma once
// Users and groups of a container image: its /etc/passwd and /etc/group, read inside the rootfs
// (openat2 RESOLVE_IN_ROOT, so an image's symlinks can't point the lookup at the host's files),
// and the OCI image-spec `User` forms ("uid", "uid:gid", "name", "name:group") resolved against
// them as containerd does (oci.WithUser, WithAdditionalGIDs).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::cri {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// passwd(5) / group(5) lines; blank, comment and malformed lines (non-numeric ids) are skipped.
std::vector<PasswdEntry> parsePasswd(std::string_view text);
std::vector<GroupEntry> parseGroup(std::string_view text);

class RootfsUsers {
 public:
  // Reads <rootfs>/etc/passwd and /etc/group; a missing file reads as empty.
  [[nodiscard]] static Result<RootfsUsers> load(const std::filesystem::path& rootfs);
  static RootfsUsers fromText(std::string_view passwd, std::string_view group);

  const PasswdEntry* userByName(std::string_view name) const;
  const PasswdEntry* userByUid(uint32_t uid) const;
  const GroupEntry* groupByName(std::string_view name) const;
  // GIDs of the groups that list `user` as a member, except a group named like the user (its
  // primary group by convention), in file order.
  std::vector<uint32_t> memberGroups(std::string_view user) const;

 private:
  std::vector<PasswdEntry> users_;
  std::vector<GroupEntry> groups_;
};

struct UidGid {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Resolves an image-spec User string. A numeric uid takes its gid from /etc/passwd (0 when the
// uid has no entry); a name must exist; "x:y" takes the gid from its second part. `what` names
// the source in errors, e.g. `run_as_username "nobody2"` → `run_as_username "nobody2": no such
// user in /etc/passwd`.
[[nodiscard]] Result<UidGid> resolveUser(const RootfsUsers& users, std::string_view spec,
                                         std::string_view what);

}  // namespace berth::cri
