#pragma once
// What the runtime remembers about a container between its invocations (state.json), and the
// store of those records under --root.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "ocispec/runtime_spec.h"
#include "runtime/paths.h"

namespace berth::runtime {

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view statusName(ContainerStatus s);

struct ContainerRecord {
  std::string id;
  pid_t pid = 0;
  unsigned long long pidStartTime = 0;  // /proc/<pid>/stat field 22: guards against pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds, UTC
  std::map<std::string, std::string> annotations;
  bool cgroupUnified = false;
  std::map<std::string, std::string> cgroupPaths;
  // Namespace types the container has of its own or joined ("pid", "network", ...): exec joins
  // these through /proc/<pid>/ns.
  std::vector<std::string> namespaces;
  bool systemdCgroup = false;

  nlohmann::json toJson() const;
  static Result<ContainerRecord> fromJson(const nlohmann::json& j);
};

// Validates an id as runc does: [\w+-.]+, not "." or "..".
[[nodiscard]] Status validateContainerId(const std::string& id);

class ContainerStore {
 public:
  explicit ContainerStore(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  ContainerPaths paths(const std::string& id) const { return {root_ / id}; }

  // Creates <root>/<id>; kAlreadyExists when it is taken.
  [[nodiscard]] Status reserve(const std::string& id);
  [[nodiscard]] Status save(const ContainerRecord& record) const;
  // kNotFound ("container does not exist") when there is no record.
  [[nodiscard]] Result<ContainerRecord> load(const std::string& id) const;
  // Ids with a directory, sorted.
  [[nodiscard]] Result<std::vector<std::string>> ids() const;
  [[nodiscard]] Status remove(const std::string& id) const;

 private:
  std::filesystem::path root_;
};

// The container's status now, derived from the live process as runc does: a dead or reused pid
// is stopped; an existing exec.fifo means created; a frozen cgroup means paused.
ContainerStatus currentStatus(const ContainerStore& store, const ContainerRecord& record);

// Field 22 of /proc/<pid>/stat, or nullopt when the process is gone or a zombie.
std::optional<unsigned long long> processStartTime(pid_t pid);

// Time in RFC 3339 with trimmed nanoseconds, as Go's time.RFC3339Nano prints it.
std::string rfc3339NanoNow();

// The OCI state of a container (runtime.md), as `state` prints and hooks receive it.
ocispec::State ociState(const ContainerRecord& record, ContainerStatus status);

}  // namespace berth::runtime
