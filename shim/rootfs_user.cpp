#include "shim/rootfs_user.h"

#include <fcntl.h>

#include <charconv>
#include <limits>

#include "common/file_util.h"
#include "common/in_root.h"

namespace berth::cri {

namespace {

// Bounds what an image can make us read (containerd caps these files too).
constexpr size_t kMaxUserFile = 16 << 20;

std::vector<std::string_view> splitFields(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = line.find(sep, start);
    out.push_back(line.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A decimal id in [0, INT32_MAX] (runc's limit, which containerd follows).
enum class IdParse { kOk, kNotNumber, kOutOfRange };
IdParse parseId(std::string_view s, uint32_t& out) {
  if (s.empty()) return IdParse::kNotNumber;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') i = 1;
  if (i == s.size()) return IdParse::kNotNumber;
  for (size_t j = i; j < s.size(); ++j)
    if (s[j] < '0' || s[j] > '9') return IdParse::kNotNumber;
  if (s[0] == '-') return IdParse::kOutOfRange;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
  if (ec != std::errc() || v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
    return IdParse::kOutOfRange;
  out = static_cast<uint32_t>(v);
  return IdParse::kOk;
}

template <class F>
void forEachLine(std::string_view text, F f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    f(line);
  }
}

}  // namespace

std::vector<PasswdEntry> parsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  forEachLine(text, [&](std::string_view line) {
    auto f = splitFields(line, ':');
    PasswdEntry e;
    if (f.size() < 4 || f[0].empty()) return;
    if (parseId(f[2], e.uid) != IdParse::kOk || parseId(f[3], e.gid) != IdParse::kOk) return;
    e.name = f[0];
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<GroupEntry> parseGroup(std::string_view text) {
  std::vector<GroupEntry> out;
  forEachLine(text, [&](std::string_view line) {
    auto f = splitFields(line, ':');
    GroupEntry e;
    if (f.size() < 3 || f[0].empty() || parseId(f[2], e.gid) != IdParse::kOk) return;
    e.name = f[0];
    if (f.size() > 3)
      for (auto m : splitFields(f[3], ','))
        if (!trim(m).empty()) e.members.emplace_back(trim(m));
    out.push_back(std::move(e));
  });
  return out;
}

Result<RootfsUsers> RootfsUsers::load(const std::filesystem::path& rootfs) {
  UniqueFd root = BERTH_TRY_CTX(openFd(rootfs, O_PATH | O_DIRECTORY), "open rootfs");
  auto readOptional = [&](const char* path) -> Result<std::string> {
    auto text = readFileInRoot(root.get(), path, kMaxUserFile);
    if (!text && text.error().sysErrno() == ENOENT) return std::string();
    return text;
  };
  std::string passwd = BERTH_TRY(readOptional("/etc/passwd"));
  std::string group = BERTH_TRY(readOptional("/etc/group"));
  return fromText(passwd, group);
}

RootfsUsers RootfsUsers::fromText(std::string_view passwd, std::string_view group) {
  RootfsUsers u;
  u.users_ = parsePasswd(passwd);
  u.groups_ = parseGroup(group);
  return u;
}

const PasswdEntry* RootfsUsers::userByName(std::string_view name) const {
  for (const auto& u : users_)
    if (u.name == name) return &u;
  return nullptr;
}

const PasswdEntry* RootfsUsers::userByUid(uint32_t uid) const {
  for (const auto& u : users_)
    if (u.uid == uid) return &u;
  return nullptr;
}

const GroupEntry* RootfsUsers::groupByName(std::string_view name) const {
  for (const auto& g : groups_)
    if (g.name == name) return &g;
  return nullptr;
}

std::vector<uint32_t> RootfsUsers::memberGroups(std::string_view user) const {
  std::vector<uint32_t> out;
  for (const auto& g : groups_) {
    if (g.name == user) continue;
    for (const auto& m : g.members)
      if (m == user) {
        out.push_back(g.gid);
        break;
      }
  }
  return out;
}

Result<UidGid> resolveUser(const RootfsUsers& users, std::string_view spec, std::string_view what) {
  auto parts = splitFields(spec, ':');
  if (parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty()))
    return fail(Code::kInvalidArgument, "{}: invalid user, want uid, uid:gid, name or name:group",
                what);
  UidGid out;
  switch (parseId(parts[0], out.uid)) {
    case IdParse::kOutOfRange:
      return fail(Code::kInvalidArgument, "{}: uid out of range", what);
    case IdParse::kOk:
      if (parts.size() == 1) {
        const PasswdEntry* u = users.userByUid(out.uid);
        out.gid = u ? u->gid : 0;
      }
      break;
    case IdParse::kNotNumber: {
      const PasswdEntry* u = users.userByName(parts[0]);
      if (!u) return fail(Code::kInvalidArgument, "{}: no such user in /etc/passwd", what);
      out.uid = u->uid;
      out.gid = u->gid;
      break;
    }
  }
  if (parts.size() == 2) {
    switch (parseId(parts[1], out.gid)) {
      case IdParse::kOutOfRange:
        return fail(Code::kInvalidArgument, "{}: gid out of range", what);
      case IdParse::kOk:
        break;
      case IdParse::kNotNumber: {
        const GroupEntry* g = users.groupByName(parts[1]);
        if (!g)
          return fail(Code::kInvalidArgument, "{}: no such group \"{}\" in /etc/group", what,
                      parts[1]);
        out.gid = g->gid;
        break;
      }
    }
  }
  return out;
}

}  // namespace berth::cri
