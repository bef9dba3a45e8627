#include "shim/host_info.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/file_util.h"
#include "runtime/capabilities.h"
#include "runtime/plan_builder.h"

namespace berth::cri {

namespace {

std::vector<std::string_view> splitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ')
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string unescapeOctal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() + 0 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool hasOptional(const MountInfo& m, std::string_view prefix) {
  for (auto f : splitSpaces(m.optional))
    if (f.starts_with(prefix)) return true;
  return false;
}

}  // namespace

Result<std::vector<MountInfo>> parseMountInfo(std::string_view text) {
  std::vector<MountInfo> out;
  size_t lineNo = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineNo;
    if (line.empty()) continue;
    auto f = splitSpaces(line);
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-")
      ++sep;
    if (f.size() < 7 || sep == f.size())
      return fail(Code::kInternal, "mountinfo line {}: malformed", lineNo);
    MountInfo m;
    m.mountPoint = unescapeOctal(f[4]);
    for (size_t i = 6; i < sep; ++i) {
      if (!m.optional.empty()) m.optional += ' ';
      m.optional += f[i];
    }
    out.push_back(std::move(m));
  }
  return out;
}

const MountInfo* lookupMount(const std::vector<MountInfo>& mounts, std::string_view path) {
  const MountInfo* best = nullptr;
  for (const auto& m : mounts) {
    std::string_view mp = m.mountPoint;
    bool prefix = mp == "/" || path == mp ||
                  (path.starts_with(mp) && path.size() > mp.size() && path[mp.size()] == '/');
    if (prefix && (!best || mp.size() >= best->mountPoint.size())) best = &m;
  }
  return best;
}

bool isSharedMount(const MountInfo& m) {
  return hasOptional(m, "shared:");
}
bool isSharedOrSlaveMount(const MountInfo& m) {
  return hasOptional(m, "shared:") || hasOptional(m, "master:");
}

Result<HostPath> resolveHostPath(const std::filesystem::path& path) {
  if (!path.is_absolute())
    return fail(Code::kInvalidArgument, "{}: host path must be absolute", path.string());
  std::filesystem::path existing = path.lexically_normal();
  std::filesystem::path rest;
  for (;;) {
    char buf[PATH_MAX];
    if (::realpath(existing.c_str(), buf)) {
      HostPath out;
      out.exists = rest.empty();
      std::filesystem::path r = buf;
      if (!rest.empty()) r /= rest;
      out.resolved = r.lexically_normal().string();
      if (out.resolved.size() > 1 && out.resolved.back() == '/') out.resolved.pop_back();
      return out;
    }
    if (errno != ENOENT && errno != ENOTDIR)
      return failErrno(fmt::format("resolve {}", path.string()));
    if (existing == existing.root_path())
      return failErrno(fmt::format("resolve {}", path.string()));
    rest = rest.empty() ? existing.filename() : existing.filename() / rest;
    existing = existing.parent_path();
  }
}

namespace {

Status collectDevices(const std::string& hostPath, const std::string& containerPath, bool top,
                      std::vector<ocispec::Device>& out) {
  struct stat st {};
  if (::lstat(hostPath.c_str(), &st) != 0) return failErrno(fmt::format("stat {}", hostPath));
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(hostPath.c_str());
    if (!d) return failErrno(fmt::format("open {}", hostPath));
    std::unique_ptr<DIR, int (*)(DIR*)> owner(d, ::closedir);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string child = hostPath + "/" + n;
      std::string childCtr = containerPath + "/" + n;
      struct stat cst {};
      if (::lstat(child.c_str(), &cst) != 0) {
        if (errno == ENOENT) continue;
        return failErrno(fmt::format("stat {}", child));
      }
      if (S_ISDIR(cst.st_mode)) {
        // containerd's getDevices skips these: they are mounts of their own in a container.
        static const char* const kSkip[] = {"pts",  "shm",         "fd",   "mqueue",
                                            ".lxc", ".lxd-mounts", ".udev"};
        bool skip = false;
        for (const char* s : kSkip)
          skip = skip || n == s;
        if (skip) continue;
        BERTH_TRY(collectDevices(child, childCtr, false, out));
        continue;
      }
      if (n == "console") continue;
      if (!S_ISCHR(cst.st_mode) && !S_ISBLK(cst.st_mode)) continue;
      BERTH_TRY(collectDevices(child, childCtr, false, out));
    }
    return {};
  }
  ocispec::Device dev;
  if (S_ISCHR(st.st_mode))
    dev.type = "c";
  else if (S_ISBLK(st.st_mode))
    dev.type = "b";
  else if (top)
    return fail(Code::kInvalidArgument, "{}: not a device node", hostPath);
  else
    return {};
  dev.path = containerPath;
  dev.major = major(st.st_rdev);
  dev.minor = minor(st.st_rdev);
  dev.fileMode = st.st_mode & 07777;
  dev.uid = st.st_uid;
  dev.gid = st.st_gid;
  out.push_back(std::move(dev));
  return {};
}

}  // namespace

Result<std::vector<ocispec::Device>> devicesFromPath(const std::string& hostPath,
                                                     const std::string& containerPath) {
  std::vector<ocispec::Device> out;
  BERTH_TRY(collectDevices(hostPath, containerPath, true, out));
  return out;
}

bool isKnownCapability(const std::string& name) {
  return runtime::capabilityFromName(name) >= 0;
}

Result<std::vector<std::string>> currentCapabilities() {
  std::vector<std::string> out;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP + 32; ++c) {
    int r = cap_get_bound(c);
    if (r < 0) break;  // past the kernel's last capability
    if (r == 0) continue;
    char* name = cap_to_name(c);
    if (!name) return failErrno("cap_to_name");
    std::string n = name;
    cap_free(name);
    for (auto& ch : n)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out.push_back(n);
  }
  return out;
}

Result<bool> appArmorProfileLoaded(const std::filesystem::path& profilesFile,
                                   std::string_view name) {
  std::string text = BERTH_TRY(readFile(profilesFile));
  std::string prefix = fmt::format("{} (", name);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    if (line.starts_with(prefix)) return true;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return false;
}

namespace {

// This process's cgroup v2 path ("0::/a/b" in /proc/self/cgroup), or empty.
std::string unifiedCgroupOfSelf() {
  auto text = readFile("/proc/self/cgroup");
  if (!text) return {};
  size_t pos = text->find("0::");
  if (pos == std::string::npos || (pos != 0 && (*text)[pos - 1] != '\n')) return {};
  size_t end = text->find('\n', pos);
  return text->substr(pos + 3, end == std::string::npos ? std::string::npos : end - pos - 3);
}

bool exists(const std::string& p) {
  return ::access(p.c_str(), F_OK) == 0;
}

}  // namespace

Result<HostFacts> detectHostFacts(CgroupDriver driver) {
  HostFacts f;
  f.cgroupDriver = driver;
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) == 0)
    f.cgroupV2Unified = static_cast<unsigned long>(st.f_type) == CGROUP2_SUPER_MAGIC;
  if (f.cgroupV2Unified) {
    std::string self = unifiedCgroupOfSelf();
    f.swapControllerAvailable = exists("/sys/fs/cgroup" + self + "/memory.swap.max");
    auto controllers = readFile("/sys/fs/cgroup/cgroup.controllers");
    f.hugetlbControllerAvailable = controllers && controllers->find("hugetlb") != std::string::npos;
  } else {
    f.swapControllerAvailable = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
    f.hugetlbControllerAvailable = exists("/sys/fs/cgroup/hugetlb");
  }
  auto status = BERTH_TRY(readFile("/proc/self/status"));
  f.seccompEnabled = status.find("\nSeccomp:") != std::string::npos;
  f.appArmorEnabled = runtime::appArmorEnabled();
  f.seLinuxEnabled = runtime::seLinuxEnabled();
  std::string adj = BERTH_TRY(readFile("/proc/self/oom_score_adj"));
  while (!adj.empty() && (adj.back() == '\n' || adj.back() == ' '))
    adj.pop_back();
  auto [ptr, ec] = std::from_chars(adj.data(), adj.data() + adj.size(), f.minOomScoreAdj);
  if (ec != std::errc() || ptr != adj.data() + adj.size())
    return fail(Code::kInternal, "/proc/self/oom_score_adj: unexpected \"{}\"", adj);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return failErrno("gethostname");
  f.nodeHostname = host;
  f.allCapabilities = BERTH_TRY(currentCapabilities());
  return f;
}

}  // namespace berth::cri
