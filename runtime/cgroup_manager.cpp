#include "runtime/cgroup_manager.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "runtime/device_filter.h"
#include "runtime/systemd_bus.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

constexpr long kCgroup2Magic = 0x63677270;
// paths_ key of the cgroup2 hierarchy on a hybrid host.
constexpr const char* kUnifiedKey = "unified";

struct Hierarchy {
  std::string name;        // "memory", "cpu,cpuacct", "name=systemd", or "" for cgroup2
  std::string mountPoint;  // /sys/fs/cgroup/memory
  std::string root;        // cgroup path the mount shows at its mount point
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    out.push_back(item);
  return out;
}

// cgroup mounts from /proc/self/mountinfo: "id parent maj:min root mountpoint opts - type src
// super".
Result<std::vector<Hierarchy>> hierarchies(bool wantUnified) {
  auto info = BERTH_TRY(readFile("/proc/self/mountinfo"));
  std::vector<Hierarchy> out;
  std::set<std::string> seen;
  std::istringstream lines(info);
  std::string line;
  while (std::getline(lines, line)) {
    auto fields = split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-")
      ++dash;
    if (dash + 3 > fields.size() || fields.size() < 5) continue;
    const std::string& type = fields[dash + 1];
    Hierarchy h{"", fields[4], fields[3]};
    if (wantUnified) {
      if (type != "cgroup2") continue;
    } else {
      if (type != "cgroup") continue;
      std::vector<std::string> names;
      for (const auto& opt : split(fields[dash + 3], ',')) {
        if (opt == "rw" || opt == "ro" || opt.rfind("release_agent", 0) == 0 ||
            opt == "clone_children" || opt == "xattr" || opt == "noprefix")
          continue;
        names.push_back(opt);
      }
      for (size_t i = 0; i < names.size(); ++i)
        h.name += (i ? "," : "") + names[i];
    }
    if (seen.insert(h.name).second) out.push_back(h);
  }
  return out;
}

// This process's cgroup in each hierarchy, from /proc/self/cgroup ("4:memory:/a/b").
Result<std::map<std::string, std::string>> ownCgroups() {
  auto text = BERTH_TRY(readFile("/proc/self/cgroup"));
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    out[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
  }
  return out;
}

std::string lexicallyJoin(const std::string& a, const std::string& b) {
  return (fs::path(a) / fs::path(b).relative_path()).lexically_normal().string();
}

// Copies cpuset.cpus/mems down from the first ancestor that has them: a v1 cpuset cgroup
// starts empty, and joining an empty cpuset fails with ENOSPC.
Status fillCpuset(const fs::path& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto cur = readFile(dir / file);
    if (!cur) return {};  // not a cpuset hierarchy
    if (cur->find_first_not_of(" \n") != std::string::npos) continue;
    fs::path parent = dir.parent_path();
    BERTH_TRY(fillCpuset(parent));  // the hierarchy's root always has values
    auto value = BERTH_TRY(readFile(parent / file));
    BERTH_TRY(writeKernelFile(dir / file, value));
  }
  return {};
}

}  // namespace

Result<CgroupManager> CgroupManager::forContainer(const std::string& cgroupsPath,
                                                  const std::string& id) {
  struct statfs st {};
  bool unified = ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == kCgroup2Magic;
  std::string inner = cgroupsPath.empty() ? id : cgroupsPath;
  auto own = BERTH_TRY_CTX(ownCgroups(), "read own cgroup");
  CgroupManager m;
  m.unified_ = unified;
  for (const Hierarchy& h : BERTH_TRY_CTX(hierarchies(unified), "find cgroup mounts")) {
    std::string key = unified ? "" : h.name;
    auto it = own.find(key);
    if (it == own.end()) continue;
    // cgroup v2's "no internal processes" rule: our own cgroup holds us, so controllers can't be
    // enabled below it. A relative path nests under its parent instead (runc fs2 defaultpath).
    std::string base = unified ? fs::path(it->second).parent_path().string() : it->second;
    std::string cg = inner[0] == '/' ? inner : lexicallyJoin(base, inner);
    // The mount shows the hierarchy from h.root down (a container's view): strip it.
    std::string rel = cg;
    if (h.root != "/" && rel.rfind(h.root, 0) == 0) rel = rel.substr(h.root.size());
    m.paths_[h.name] = lexicallyJoin(h.mountPoint, rel);
  }
  // Hybrid hosts: the container also gets a cgroup in the bare cgroup2 hierarchy, as runc does.
  if (!unified) {
    auto own2 = own.find("");
    for (const Hierarchy& h : BERTH_TRY(hierarchies(true))) {
      if (own2 == own.end()) break;
      std::string cg = inner[0] == '/' ? inner : lexicallyJoin(own2->second, inner);
      m.paths_[kUnifiedKey] = lexicallyJoin(h.mountPoint, cg);
    }
  }
  if (m.paths_.empty()) return fail(Code::kFailedPrecondition, "no cgroup hierarchy is mounted");
  return m;
}

CgroupManager CgroupManager::fromPaths(bool unified, std::map<std::string, std::string> paths,
                                       bool systemd) {
  CgroupManager m;
  m.unified_ = unified;
  m.paths_ = std::move(paths);
  if (systemd && !m.paths_.empty()) {
    m.scope_ = fs::path(m.paths_.begin()->second).filename().string();
    m.scopeStarted_ = true;
  }
  return m;
}

Result<CgroupManager> CgroupManager::forSystemdScope(const std::string& cgroupsPath,
                                                     const std::string& id) {
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) != 0 || st.f_type != kCgroup2Magic)
    return fail(Code::kFailedPrecondition,
                "--systemd-cgroup: this runtime's systemd driver needs a cgroup v2 host");
  // runc's format: "slice:prefix:name"; empty parts take the defaults.
  std::string slice = "system.slice", prefix = "berth", name = id;
  if (!cgroupsPath.empty()) {
    auto parts = split(cgroupsPath, ':');
    if (parts.size() != 3)
      return fail(Code::kInvalidArgument,
                  "linux.cgroupsPath: \"{}\" is not slice:prefix:name (systemd driver)",
                  cgroupsPath);
    if (!parts[0].empty()) slice = parts[0];
    prefix = parts[1];
    name = parts[2];
  }
  if (slice.size() < 7 || slice.substr(slice.size() - 6) != ".slice" ||
      slice.find('/') != std::string::npos)
    return fail(Code::kInvalidArgument, "linux.cgroupsPath: invalid slice name \"{}\"", slice);
  std::string unit = prefix.empty() ? name + ".scope" : prefix + "-" + name + ".scope";
  // "a-b.slice" lives at a.slice/a-b.slice (systemd.slice(5)).
  std::string path, stem = slice.substr(0, slice.size() - 6);
  if (slice != "-.slice") {
    for (size_t dash = stem.find('-'); dash != std::string::npos; dash = stem.find('-', dash + 1))
      path += "/" + stem.substr(0, dash) + ".slice";
    path += "/" + slice;
  }
  CgroupManager m;
  m.unified_ = true;
  m.scope_ = unit;
  m.paths_[""] = "/sys/fs/cgroup" + path + "/" + unit;
  return m;
}

Status CgroupManager::create() {
  if (systemd()) return {};  // systemd makes the scope's cgroup when it starts the unit
  for (const auto& [name, dir] : paths_) {
    // Usually only the leaf is missing: one mkdir.
    if (::mkdir(dir.c_str(), 0755) == 0) {
      created_.push_back(dir);
    } else if (errno == EEXIST) {
      preexisting_ = true;
    } else {
      BERTH_TRY(createWithParents(dir));
    }
    // As runc's fs2: every controller the hierarchy has is delegated down to the container, so
    // its memory, cpu, io and pids are accounted (the kubelet's stats) even without limits.
    if (unified_) enableAvailableControllers();
    if (name == "cpuset" || name.find("cpuset") != std::string::npos)
      BERTH_TRY_CTX(fillCpuset(dir), fmt::format("initialise cpuset {}", dir));
  }
  return {};
}

Status CgroupManager::createWithParents(const std::string& dir) {
  // Remember the directories made here, outermost first: only those are ours to roll back.
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty() && p != p.parent_path() && !fs::exists(p); p = p.parent_path())
    missing.insert(missing.begin(), p);
  BERTH_TRY_CTX(makeDirs(dir), fmt::format("create cgroup {}", dir));
  for (auto& p : missing)
    created_.push_back(p.string());
  return {};
}

Status CgroupManager::addProcess(pid_t pid) {
  if (systemd() && !scopeStarted_) return startScope(pid);
  for (const auto& [name, dir] : paths_) {
    BERTH_TRY_CTX(writeKernelFile(fs::path(dir) / "cgroup.procs", std::to_string(pid)),
                  fmt::format("adding pid {} to cgroups", pid));
  }
  return {};
}

std::string CgroupManager::unifiedDir() const {
  if (unified_) return paths_.size() == 1 ? paths_.begin()->second : std::string();
  auto it = paths_.find(kUnifiedKey);
  return it == paths_.end() ? std::string() : it->second;
}

std::string CgroupManager::cloneIntoDir() const {
  return systemd() ? std::string() : unifiedDir();
}

std::vector<std::string> CgroupManager::selfJoinDirs() const {
  std::vector<std::string> dirs;
  if (systemd() || unified_) return dirs;
  for (const auto& [name, dir] : paths_)
    if (name != kUnifiedKey) dirs.push_back(dir);
  return dirs;
}

std::string CgroupManager::dirFor(const std::string& controller) const {
  if (unified_) return paths_.begin()->second;
  for (const auto& [name, dir] : paths_)
    for (const auto& c : split(name, ','))
      if (c == controller) return dir;
  return {};
}

Result<CgroupManager::V2Levels> CgroupManager::v2Levels() const {
  // The hierarchy's root: the deepest mounted cgroup2 above the container's directory.
  fs::path dir = paths_.begin()->second;
  auto mounts = BERTH_TRY(hierarchies(true));
  V2Levels out;
  for (const auto& h : mounts)
    if (dir.string().rfind(h.mountPoint, 0) == 0 && h.mountPoint.size() > out.root.string().size())
      out.root = h.mountPoint;
  // Each ancestor from the root down to the container's parent delegates to its children.
  for (fs::path p = dir.parent_path(); p.string().size() >= out.root.string().size();
       p = p.parent_path()) {
    out.levels.insert(out.levels.begin(), p);
    if (p == out.root) break;
  }
  return out;
}

Status CgroupManager::enableControllers(const std::set<std::string>& controllers) {
  if (controllers.empty()) return {};
  auto v2 = BERTH_TRY(v2Levels());
  auto available = readFile(v2.root / "cgroup.controllers").value_or("");
  std::string enable;
  for (const auto& c : controllers) {
    if ((" " + available + " ").find(" " + c + " ") == std::string::npos &&
        (" " + available).find(" " + c + "\n") == std::string::npos)
      return fail(Code::kFailedPrecondition,
                  "the {} cgroup controller is not available (not in {}/cgroup.controllers)", c,
                  v2.root.string());
    enable += (enable.empty() ? "+" : " +") + c;
  }
  for (const auto& level : v2.levels)
    BERTH_TRY_CTX(writeKernelFile(level / "cgroup.subtree_control", enable),
                  fmt::format("enable controllers {} in {}", enable, level.string()));
  return {};
}

void CgroupManager::enableAvailableControllers() {
  auto v2 = v2Levels();
  if (!v2) return;
  auto available = readFile(v2->root / "cgroup.controllers");
  if (!available) return;
  std::vector<std::string> names = split(*available, ' ');
  std::string all;
  for (auto& n : names) {
    while (!n.empty() && (n.back() == '\n' || n.back() == ' '))
      n.pop_back();
    if (!n.empty()) all += (all.empty() ? "+" : " +") + n;
  }
  if (all.empty()) return;
  for (const auto& level : v2->levels) {
    if (writeKernelFile(level / "cgroup.subtree_control", all)) continue;
    // One refused (a level with processes of its own can't take domain controllers): each on its
    // own, keeping what goes. A limit that needs a missing one fails later, naming it.
    for (const auto& n : names)
      if (!n.empty()) (void)writeKernelFile(level / "cgroup.subtree_control", "+" + n);
  }
}

Status CgroupManager::setDeviceRules(const std::vector<ocispec::DeviceCgroup>& rules) {
  if (systemd() && !scopeStarted_) {
    pendingDevices_ = rules;  // attached once the scope's cgroup exists
    return {};
  }
  auto program = BERTH_TRY(compileDeviceFilter(rules));
  return attachDeviceFilter(paths_.begin()->second, program);
}

Status CgroupManager::startScope(pid_t pid) {
  auto bus = BERTH_TRY_CTX(SystemdBus::connect(), "systemd cgroup driver");
  std::vector<UnitProperty> props = {
      {"Description", std::string("berth container ") + scope_},
      {"Slice", fs::path(paths_.begin()->second).parent_path().filename().string()},
      {"Delegate", true},
      {"DefaultDependencies", false},
      {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
  };
  for (auto& p : unitPropertiesFor(pending_))
    props.push_back(std::move(p));
  BERTH_TRY_CTX(bus.startTransientUnit(scope_, props), fmt::format("start scope {}", scope_));
  scopeStarted_ = true;
  // The job moves the pid when systemd runs it, just after the reply: wait (bounded) for it.
  fs::path procs = fs::path(paths_.begin()->second) / "cgroup.procs";
  for (int i = 0; i < 2000; ++i) {
    auto text = readFile(procs);
    if (text && ("\n" + *text).find(fmt::format("\n{}\n", pid)) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto writes = std::move(pending_);
  pending_.clear();
  BERTH_TRY(apply(writes));
  if (pendingDevices_) BERTH_TRY(setDeviceRules(*std::exchange(pendingDevices_, std::nullopt)));
  return {};
}

Status CgroupManager::apply(const std::vector<CgroupWrite>& writes) {
  if (systemd() && !scopeStarted_) {
    // Before the scope exists: becomes unit properties (and files) when the init joins.
    pending_.insert(pending_.end(), writes.begin(), writes.end());
    return {};
  }
  if (unified_) {
    std::set<std::string> controllers;
    for (const auto& w : writes)
      if (!w.controller.empty()) controllers.insert(w.controller);
    BERTH_TRY(enableControllers(controllers));
  }
  for (const auto& w : writes) {
    std::string dir = dirFor(w.controller);
    if (dir.empty())
      return fail(Code::kFailedPrecondition, "{}: the {} cgroup controller is not mounted", w.field,
                  w.controller);
    fs::path file = fs::path(dir) / w.file;
    // Kernels with the BFQ scheduler name the weight files after it (as runc falls back).
    for (auto [plain, bfq] : {std::pair{"blkio.weight", "blkio.bfq.weight"},
                              std::pair{"blkio.weight_device", "blkio.bfq.weight_device"},
                              std::pair{"io.weight", "io.bfq.weight"}})
      if (w.file == plain && !fs::exists(file) && fs::exists(fs::path(dir) / bfq))
        file = fs::path(dir) / bfq;
    auto st = writeKernelFile(file, w.value);
    if (st || w.mayFail) continue;
    if (st.error().sysErrno() == ENOENT || st.error().sysErrno() == EACCES)
      return fail(Code::kFailedPrecondition, "{}: this kernel has no {} (cgroup file {})", w.field,
                  w.file, file.string());
    return std::unexpected(
        std::move(st).error().context(fmt::format("{}: write {:?} to", w.field, w.value)));
  }
  return {};
}

Result<CgroupManager> CgroupManager::subCgroups(const std::vector<std::string>& specs) const {
  std::string all;
  std::map<std::string, std::string> byController;
  auto controllersOf = [](const std::string& hierarchy) {
    std::set<std::string> out;
    for (const auto& c : split(hierarchy, ','))
      out.insert(c);
    return out;
  };
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    std::string sub = colon == std::string::npos ? spec : spec.substr(colon + 1);
    std::string rel = fs::path("/" + sub).lexically_normal().relative_path().string();
    if (fs::path(sub).lexically_normal().string().rfind("..", 0) == 0)
      return fail(Code::kInvalidArgument, "{} is not a sub cgroup path", sub);
    if (colon == std::string::npos) {
      all = rel;
      continue;
    }
    if (unified_)
      return fail(Code::kInvalidArgument, "--cgroup {}: controllers can't be named on cgroup v2",
                  spec);
    for (const auto& c : split(spec.substr(0, colon), ',')) {
      bool known = false;
      for (const auto& [name, dir] : paths_)
        known = known || controllersOf(name).count(c);
      if (!known) return fail(Code::kInvalidArgument, "unknown controller {}", c);
      byController[c] = rel;
    }
  }
  CgroupManager out = *this;
  for (auto& [name, dir] : out.paths_) {
    std::string sub = all;
    for (const auto& c : controllersOf(name))
      if (auto it = byController.find(c); it != byController.end()) sub = it->second;
    if (!sub.empty()) dir = lexicallyJoin(dir, sub);
  }
  return out;
}

std::string CgroupManager::procsDir() const {
  if (unified_) return paths_.begin()->second;
  for (const char* pref : {"pids", "memory", "freezer", "cpu"})
    if (auto it = paths_.find(pref); it != paths_.end()) return it->second;
  return paths_.begin()->second;
}

Result<std::vector<pid_t>> CgroupManager::pids() const {
  std::vector<pid_t> out;
  std::error_code ec;
  fs::path root = procsDir();
  if (!fs::exists(root)) return out;
  auto collect = [&](const fs::path& dir) -> Status {
    auto text = readFile(dir / "cgroup.procs");
    if (!text)
      return text.error().code() == Code::kNotFound ? Status{} : std::unexpected(text.error());
    std::istringstream in(*text);
    pid_t p;
    while (in >> p)
      out.push_back(p);
    return {};
  };
  BERTH_TRY(collect(root));
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_directory(ec)) BERTH_TRY(collect(it->path()));
  return out;
}

Status CgroupManager::setFrozen(bool frozenState) {
  if (unified_) {
    fs::path f = fs::path(procsDir()) / "cgroup.freeze";
    return withContext(writeKernelFile(f, frozenState ? "1" : "0"), "freeze");
  }
  auto it = paths_.find("freezer");
  if (it == paths_.end())
    return fail(Code::kFailedPrecondition, "freezer cgroup controller is not mounted");
  fs::path f = fs::path(it->second) / "freezer.state";
  const char* want = frozenState ? "FROZEN" : "THAWED";
  BERTH_TRY_CTX(writeKernelFile(f, want), "freeze");
  // FREEZING is transitional: the write returns before every task has stopped.
  for (int i = 0; i < 1000; ++i) {
    auto cur = BERTH_TRY(readFile(f));
    if (cur.rfind(want, 0) == 0) return {};
    if (frozenState) BERTH_TRY(writeKernelFile(f, want));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return fail(Code::kDeadlineExceeded, "cgroup {} did not reach {}", it->second, want);
}

Result<bool> CgroupManager::frozen() const {
  if (unified_) {
    auto text = readFile(fs::path(procsDir()) / "cgroup.freeze");
    return text && text->rfind("1", 0) == 0;
  }
  auto it = paths_.find("freezer");
  if (it == paths_.end()) return false;
  auto text = readFile(fs::path(it->second) / "freezer.state");
  return text && text->rfind("THAWED", 0) != 0;
}

Status CgroupManager::signalAll(int sig) {
  if (unified_ && sig == SIGKILL) {
    fs::path kill = fs::path(procsDir()) / "cgroup.kill";
    if (::access(kill.c_str(), F_OK) == 0)
      return withContext(writeKernelFile(kill, "1"), "kill cgroup");
  }
  // An empty cgroup stays empty (nothing in it can fork): no freeze, whose first use flips a
  // kernel static key on every CPU (the usual case: the init of a container with its own PID
  // namespace has exited, and every process of that namespace with it).
  if (BERTH_TRY(pids()).empty()) return {};
  // Freeze so nothing forks between listing and signalling; thaw so SIGKILL can be delivered.
  bool canFreeze = unified_ || paths_.count("freezer");
  if (canFreeze) BERTH_TRY(setFrozen(true));
  auto list = pids();
  if (list)
    for (pid_t p : *list)
      ::kill(p, sig);
  if (canFreeze) BERTH_TRY(setFrozen(false));
  if (!list) return std::unexpected(list.error());
  return {};
}

void CgroupManager::undoCreate() {
  if (systemd() && scopeStarted_) {
    if (auto bus = SystemdBus::connect()) (void)bus->stopUnit(scope_);
  }
  for (auto it = created_.rbegin(); it != created_.rend(); ++it)
    ::rmdir(it->c_str());
  created_.clear();
}

Status CgroupManager::destroy() {
  if (systemd()) {
    // systemd stops a scope by itself once its last process is gone (and removes its cgroup):
    // give it a moment, and ask over the bus only for a scope that is still there.
    fs::path dir = paths_.begin()->second;
    for (int i = 0; i < 200 && fs::exists(dir); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (fs::exists(dir)) {
      auto bus = SystemdBus::connect();
      if (bus) BERTH_TRY_CTX(bus->stopUnit(scope_), fmt::format("stop scope {}", scope_));
    }
  }
  for (const auto& [name, dir] : paths_) {
    // Usually an empty leaf: one rmdir.
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
    std::error_code ec;
    // Children first (a container may have made sub-cgroups), deepest first.
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec))
      if (it->is_directory(ec)) dirs.push_back(it->path());
    dirs.emplace_back(dir);
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const auto& d : dirs) {
      // rmdir is EBUSY until the last exiting task has left; that takes a few ms after SIGKILL.
      int tries = 0;
      while (::rmdir(d.c_str()) < 0) {
        if (errno == ENOENT) break;
        if (errno != EBUSY || ++tries > 200)
          return failErrno(fmt::format("remove cgroup {}", d.string()));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
  return {};
}

std::vector<CgroupBind> CgroupManager::binds() const {
  std::vector<CgroupBind> out;
  if (unified_) return out;
  for (const auto& [name, dir] : paths_) {
    std::string n = name.rfind("name=", 0) == 0 ? name.substr(5) : name;
    out.push_back({dir, n});
  }
  return out;
}

}  // namespace berth::runtime
