#pragma once
// What berth-cri keeps on disk per pod and per container (<root>/pods/<id>/pod.json,
// <root>/containers/<id>/container.json): the CRI config as the kubelet sent it (protobuf JSON)
// and what the engine set up, so that a restarted berth-cri rebuilds its state and can undo a
// half-finished RunPodSandbox or CreateContainer. Each record is written atomically.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace berth::cri {

namespace v1 = ::runtime::v1;

// A record written before the work starts is kCreating; a restart that finds one rolls back.
enum class Phase { kCreating, kReady, kStopped };

struct PodRecord {
  std::string id;
  std::string name;  // the reserved name: <name>_<namespace>_<uid>_<attempt>
  v1::PodSandboxConfig config;
  std::string runtimeHandler;
  Phase phase = Phase::kCreating;
  std::int64_t createdAtNs = 0;
  // What RunPodSandbox made (empty when the pod uses the host's).
  std::string netns, ipcns, utsns;
  pid_t pidInit = -1;  // shared PID namespace's init
  bool networkAttached = false;
  std::string ip;
  std::vector<std::string> additionalIps;
  std::string cniResult;  // the CNI result JSON, for verbose status
  // The last UpdatePodSandboxResources (protobuf JSON), for verbose status.
  std::string resources;
};

enum class ContainerPhase { kCreating, kCreated, kRunning };

struct ContainerRecord {
  std::string id;
  std::string podId;
  std::string name;  // <name>_<pod name>_<namespace>_<uid>_<attempt>
  v1::ContainerConfig config;
  std::string imageRef;   // what the request named
  std::string imageId;    // the config digest
  std::string imageName;  // the repo tag or digest the image is known by
  std::string runtimeHandler;
  ContainerPhase phase = ContainerPhase::kCreating;
  std::int64_t createdAtNs = 0;
  std::int64_t startedAtNs = 0;
  pid_t pid = -1;
  std::string logPath;      // empty: not logged
  std::string cgroupsPath;  // linux.cgroupsPath of its spec
  std::string stopSignal;   // the image's, "" for SIGTERM
};

[[nodiscard]] std::string podRecordToJson(const PodRecord& r);
[[nodiscard]] Result<PodRecord> parsePodRecord(std::string_view json);
[[nodiscard]] std::string containerRecordToJson(const ContainerRecord& r);
[[nodiscard]] Result<ContainerRecord> parseContainerRecord(std::string_view json);

// Whether `labels` has every key=value of `selector` (the CRI filters' label_selector).
bool labelsMatch(const google::protobuf::Map<std::string, std::string>& labels,
                 const google::protobuf::Map<std::string, std::string>& selector);

// A message as protobuf JSON with the proto field names (for verbose status info).
[[nodiscard]] std::string protoJson(const google::protobuf::Message& message);

// 64 hex digits from getrandom(2), as containerd's ids.
[[nodiscard]] std::string newId();
std::int64_t nowNs();

}  // namespace berth::cri
