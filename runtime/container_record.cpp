#include "runtime/container_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>

#include "common/file_util.h"
#include "common/mount.h"
#include "runtime/cgroup_manager.h"

namespace berth::runtime {

namespace fs = std::filesystem;

std::string_view statusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating:
      return "creating";
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kPaused:
      return "paused";
    case ContainerStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

nlohmann::json ContainerRecord::toJson() const {
  return {{"id", id},
          {"pid", pid},
          {"pidStartTime", pidStartTime},
          {"bundle", bundle},
          {"rootfs", rootfs},
          {"created", created},
          {"annotations", annotations},
          {"cgroupUnified", cgroupUnified},
          {"cgroupPaths", cgroupPaths},
          {"namespaces", namespaces},
          {"systemdCgroup", systemdCgroup}};
}

Result<ContainerRecord> ContainerRecord::fromJson(const nlohmann::json& j) {
  try {
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.pidStartTime = j.at("pidStartTime").get<unsigned long long>();
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.annotations = j.value("annotations", std::map<std::string, std::string>{});
    r.cgroupUnified = j.value("cgroupUnified", false);
    r.cgroupPaths = j.value("cgroupPaths", std::map<std::string, std::string>{});
    r.namespaces = j.value("namespaces", std::vector<std::string>{});
    r.systemdCgroup = j.value("systemdCgroup", false);
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::kDataLoss, "corrupt container state: {}", e.what());
  }
}

Status validateContainerId(const std::string& id) {
  bool ok = !id.empty() && id != "." && id != ".." &&
            std::all_of(id.begin(), id.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '_' || c == '+' || c == '-' || c == '.';
            });
  if (!ok) return fail(Code::kInvalidArgument, "invalid id format: {}", id);
  return {};
}

Status ContainerStore::reserve(const std::string& id) {
  BERTH_TRY(validateContainerId(id));
  // The whole path, as runc does: containerd's shim passes --root <root>/<namespace>.
  BERTH_TRY_CTX(makeDirs(root_, 0700), fmt::format("create state root {}", root_.string()));
  fs::path dir = root_ / id;
  if (::mkdir(dir.c_str(), 0711) < 0) {
    if (errno == EEXIST)
      return fail(Code::kAlreadyExists, "container with given ID already exists: {}", id);
    return failErrno(fmt::format("create state directory {}", dir.string()));
  }
  return {};
}

Status ContainerStore::save(const ContainerRecord& record) const {
  return writeFileAtomic(paths(record.id).state(), record.toJson().dump(), 0600,
                         Durability::kVolatile);
}

Result<ContainerRecord> ContainerStore::load(const std::string& id) const {
  BERTH_TRY(validateContainerId(id));
  auto text = readFile(paths(id).state());
  if (!text) {
    if (text.error().code() == Code::kNotFound)
      return fail(Code::kNotFound, "container does not exist");
    return std::unexpected(std::move(text).error());
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail(Code::kDataLoss, "corrupt state file for container {}", id);
  return ContainerRecord::fromJson(j);
}

Result<std::vector<std::string>> ContainerStore::ids() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  for (auto& e : fs::directory_iterator(root_, ec))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  if (ec) return failErrno(ec.value(), fmt::format("list {}", root_.string()));
  std::sort(out.begin(), out.end());
  return out;
}

Status ContainerStore::remove(const std::string& id) const {
  // A container in the runtime's mount namespace has every mount made for it on <dir>/rootfs:
  // they go first, and remove_all must never reach into a mount (it would empty the rootfs).
  fs::path rootfs = paths(id).rootfs();
  BERTH_TRY(detachAll(rootfs.string()));
  if (::rmdir(rootfs.c_str()) < 0 && errno != ENOENT)
    return failErrno(fmt::format("remove {}", rootfs.string()));
  return removeAll(root_ / id);
}

std::optional<unsigned long long> processStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto stat = readFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) return std::nullopt;
  // comm may contain spaces and parens: fields start after the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  std::string_view rest(*stat);
  rest.remove_prefix(close + 2);
  if (rest[0] == 'Z' || rest[0] == 'X') return std::nullopt;
  // rest starts at field 3 (state); start time is field 22.
  for (int field = 3; field < 22; ++field) {
    auto sp = rest.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(sp + 1);
  }
  return std::strtoull(std::string(rest.substr(0, rest.find(' '))).c_str(), nullptr, 10);
}

ContainerStatus currentStatus(const ContainerStore& store, const ContainerRecord& record) {
  auto start = processStartTime(record.pid);
  if (!start || *start != record.pidStartTime) return ContainerStatus::kStopped;
  if (::access(store.paths(record.id).execFifo().c_str(), F_OK) == 0)
    return ContainerStatus::kCreated;
  auto cg =
      CgroupManager::fromPaths(record.cgroupUnified, record.cgroupPaths, record.systemdCgroup);
  if (!record.cgroupPaths.empty()) {
    auto frozen = cg.frozen();
    if (frozen && *frozen) return ContainerStatus::kPaused;
  }
  return ContainerStatus::kRunning;
}

std::string rfc3339NanoNow() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  std::string frac = fmt::format("{:09}", nanos);
  while (!frac.empty() && frac.back() == '0')
    frac.pop_back();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}{}{}Z", fmt::gmtime(secs), frac.empty() ? "" : ".", frac);
}

ocispec::State ociState(const ContainerRecord& record, ContainerStatus status) {
  ocispec::State s;
  s.ociVersion = ocispec::kOciVersion;
  s.id = record.id;
  s.status = std::string(statusName(status));
  s.pid = status == ContainerStatus::kStopped ? 0 : record.pid;
  s.bundle = record.bundle;
  s.annotations = record.annotations;
  return s;
}

}  // namespace berth::runtime
