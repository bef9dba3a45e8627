#include "kubelet/pod_actions.h"

#include <string_view>

#include "kubeapi/json_fields.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;

// The sandbox to keep, or the attempt a new one gets (podSandboxChanged upstream).
void planSandbox(const RuntimePodStatus& status, PodActions& actions) {
  if (status.sandboxes.empty()) {
    actions.createSandbox = true;
    return;
  }
  const SandboxStatus& newest = status.sandboxes.front();
  int ready = 0;
  for (const auto& s : status.sandboxes)
    ready += s.ready ? 1 : 0;
  if (ready > 1 || !newest.ready) {
    actions.createSandbox = true;
    actions.attempt = newest.attempt + 1;
    return;
  }
  actions.sandboxId = newest.id;
}

bool succeeded(const ContainerStatus* st) {
  return st && st->state == ContainerState::kExited && st->exitCode == 0;
}

// Why a running container must go (an empty message keeps it), with the failed probe's grace.
ContainerToKill killReason(const Json& container, const ContainerStatus& st,
                           const ProbeVerdicts& probes) {
  ContainerToKill kill{.id = st.id, .name = st.name};
  auto probeGrace = [&](const char* probe) -> std::optional<std::int64_t> {
    const Json& g = jsonField(jsonField(container, probe), "terminationGracePeriodSeconds");
    if (!g.is_number_integer()) return std::nullopt;
    return g.get<std::int64_t>();
  };
  if (st.hash != 0 && st.hash != containerHash(container)) {
    kill.message = "Container " + st.name + " definition changed";
  } else if (probes.livenessFailed.contains(st.id)) {
    kill.message = "Container " + st.name + " failed liveness probe";
    kill.probeGracePeriod = probeGrace("livenessProbe");
  } else if (probes.startupFailed.contains(st.id)) {
    kill.message = "Container " + st.name + " failed startup probe";
    kill.probeGracePeriod = probeGrace("startupProbe");
  }
  return kill;
}

// Init containers in order, sidecars staying up (computeInitContainerActions upstream). Returns
// whether initialization is complete, so the app containers may be looked at.
bool planInitContainers(const Json& spec, const RuntimePodStatus& status,
                        const ProbeVerdicts& probes, PodActions& actions) {
  const Json& inits = jsonArray(spec, "initContainers");
  const std::string policy = jsonString(spec, "restartPolicy", "Always");
  // Once an app container has run, the regular init containers are done even if their records
  // were removed since.
  bool appStarted = false;
  for (const auto& c : jsonArray(spec, "containers")) {
    if (status.find(jsonString(c, "name"))) appStarted = true;
  }
  for (std::size_t i = 0; i < inits.size(); ++i) {
    const Json& c = inits[i];
    const ContainerStatus* st = status.find(jsonString(c, "name"));
    if (isSidecar(c)) {
      if (!st) {
        actions.initContainersToStart.push_back(i);
        return false;
      }
      if (st->state != ContainerState::kRunning) {
        if (st->state == ContainerState::kCreated) {
          actions.containersToKill.push_back({st->id, st->name, "Container was never started"});
        }
        actions.initContainersToStart.push_back(i);
        return false;
      }
      if (ContainerToKill kill = killReason(c, *st, probes); !kill.message.empty()) {
        kill.message += ", will be restarted";
        actions.containersToKill.push_back(std::move(kill));
        actions.initContainersToStart.push_back(i);
        return false;
      }
      if (probes.notStarted.contains(st->id)) return false;  // the next waits for it
      continue;
    }
    if (appStarted) continue;
    if (!st) {
      actions.initContainersToStart.push_back(i);
      return false;
    }
    switch (st->state) {
      case ContainerState::kRunning:
        return false;
      case ContainerState::kExited:
        if (st->exitCode == 0) continue;
        if (policy == "Never") {
          actions.killPod = true;  // the pod failed
        } else {
          actions.initContainersToStart.push_back(i);
        }
        return false;
      case ContainerState::kCreated:
      case ContainerState::kUnknown:
        actions.containersToKill.push_back(
            {st->id, st->name, "Init container is in an unknown state"});
        actions.initContainersToStart.push_back(i);
        return false;
    }
  }
  return true;
}

}  // namespace

bool isSidecar(const Json& initContainer) {
  return jsonString(initContainer, "restartPolicy") == "Always";
}

bool shouldRestart(std::string_view restartPolicy, const ContainerStatus& status) {
  if (restartPolicy == "Never") return false;
  if (restartPolicy == "OnFailure") {
    return !(status.state == ContainerState::kExited && status.exitCode == 0);
  }
  return true;
}

std::uint64_t containerHash(const Json& container) {
  Json hashed = container;
  if (hashed.is_object()) hashed.erase("resources");
  // FNV-1a 64 over the canonical JSON (nlohmann keeps object keys sorted).
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : hashed.dump()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

PodActions computePodActions(const Json& pod, const RuntimePodStatus& status,
                             const ProbeVerdicts& probes) {
  PodActions actions;
  const Json& spec = jsonField(pod, "spec");
  const std::string policy = jsonString(spec, "restartPolicy", "Always");
  const Json& containers = jsonArray(spec, "containers");

  planSandbox(status, actions);
  if (actions.createSandbox) {
    actions.killPod = true;  // whatever is left of the old sandbox goes first
    // A pod that must not restart keeps its dead containers and no new sandbox.
    if (policy == "Never" && actions.attempt != 0 && !status.containers.empty()) {
      actions.createSandbox = false;
      return actions;
    }
    if (!jsonArray(spec, "initContainers").empty()) {
      actions.initContainersToStart.push_back(0);
      return actions;
    }
    for (std::size_t i = 0; i < containers.size(); ++i) {
      const ContainerStatus* st = status.find(jsonString(containers[i], "name"));
      if (policy == "OnFailure" && succeeded(st)) continue;
      actions.containersToStart.push_back(i);
    }
    if (actions.containersToStart.empty()) actions.createSandbox = false;  // the pod is done
    return actions;
  }

  if (!planInitContainers(spec, status, probes, actions)) return actions;

  int keep = 0;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const Json& c = containers[i];
    const ContainerStatus* st = status.find(jsonString(c, "name"));
    if (!st) {
      actions.containersToStart.push_back(i);
      continue;
    }
    if (st->state != ContainerState::kRunning) {
      if (shouldRestart(policy, *st)) {
        if (st->state == ContainerState::kCreated || st->state == ContainerState::kUnknown) {
          actions.containersToKill.push_back({st->id, st->name, "Container is not running"});
        }
        actions.containersToStart.push_back(i);
      }
      continue;
    }
    ContainerToKill kill = killReason(c, *st, probes);
    if (kill.message.empty()) {
      ++keep;
      continue;
    }
    // A changed spec restarts whatever the policy; a failed probe only where restarts are allowed.
    bool specChanged = st->hash != 0 && st->hash != containerHash(c);
    bool restart = specChanged || policy != "Never";
    if (restart) {
      kill.message += ", will be restarted";
      actions.containersToStart.push_back(i);
    }
    actions.containersToKill.push_back(std::move(kill));
  }
  // Nothing runs and nothing will: the pod is done (its sidecars, if any, go with it).
  if (keep == 0 && actions.containersToStart.empty()) {
    actions.killPod = true;
    actions.containersToKill.clear();
  }
  return actions;
}

}  // namespace berth::kubelet
