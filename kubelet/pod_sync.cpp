#include "kubelet/pod_sync.h"

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "kubeapi/json_fields.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;

constexpr std::int64_t kMinimumGracePeriodSeconds = 2;

std::chrono::system_clock::time_point wallTime(std::int64_t nanos) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(nanos)));
}

void retryNoLaterThan(SyncResult& result, std::chrono::seconds after) {
  after = std::max(after, std::chrono::seconds(1));
  if (!result.retryAfter || after < *result.retryAfter) result.retryAfter = after;
}

}  // namespace

PodSync::PodSync(CriClient& cri, ImagePuller& images, ObjectSource& objects,
                 const PodEvents& events, PodSyncOptions options)
    : cri_(cri),
      images_(images),
      objects_(objects),
      events_(events),
      options_(std::move(options)) {}

std::int64_t PodSync::gracePeriod(const Json& pod, std::optional<std::int64_t> override) {
  std::int64_t grace = 30;
  const Json& spec = jsonField(pod, "spec");
  if (const Json& g = jsonField(spec, "terminationGracePeriodSeconds"); g.is_number_integer()) {
    grace = g.get<std::int64_t>();
  }
  if (const Json& g = jsonField(jsonField(pod, "metadata"), "deletionGracePeriodSeconds");
      g.is_number_integer()) {
    grace = g.get<std::int64_t>();
  }
  if (override) grace = *override;
  return std::max(grace, kMinimumGracePeriodSeconds);
}

Result<std::string> PodSync::runtimeHandler(const Json& pod) {
  const std::string cls = jsonString(jsonField(pod, "spec"), "runtimeClassName");
  if (cls.empty()) return std::string();
  auto rc = objects_.runtimeClass(cls);
  if (!rc) return fail(rc.error().code(), "RuntimeClass \"{}\" not found", cls);
  return jsonString(*rc, "handler");
}

std::vector<Json> PodSync::pullSecrets(const Json& pod) {
  std::vector<Json> secrets;
  const std::string ns = jsonString(jsonField(pod, "metadata"), "namespace");
  for (const Json& ref : jsonArray(jsonField(pod, "spec"), "imagePullSecrets")) {
    // A missing pull secret is not an error: the pull goes without it, as upstream.
    if (auto s = objects_.secret(ns, jsonString(ref, "name"))) secrets.push_back(std::move(*s));
  }
  return secrets;
}

void PodSync::startContainer(const Json& pod, const Json& container, const RuntimePodStatus& status,
                             const std::string& sandboxId, const cri::PodSandboxConfig& sandbox,
                             const std::vector<std::string>& podIps, const MountsFn& mountsFn,
                             SyncResult& result) {
  const std::string name = jsonString(container, "name");
  auto waitWith = [&](std::string reason, std::string message) {
    result.waiting[name] = {std::move(reason), std::move(message)};
  };
  // A step that failed: the container waits with `reason`, and the pod's events say why.
  auto failWith = [&](std::string reason, std::string message) {
    events_.container(pod, name, PodEvents::kWarning, "Failed", "Error: " + message);
    waitWith(std::move(reason), std::move(message));
    retryNoLaterThan(result, std::chrono::seconds(10));
  };
  const ContainerStatus* prev = status.find(name);
  const int restartCount = prev ? prev->restartCount + 1 : 0;
  if (prev && prev->state == ContainerState::kExited) {
    const std::string key = fmt::format("{}/{}/{:x}", jsonString(jsonField(pod, "metadata"), "uid"),
                                        name, containerHash(container));
    const auto finished = wallTime(prev->finishedAt);
    if (backoff_.inBackoffSince(key, finished)) {
      const auto current = backoff_.current(key);
      waitWith("CrashLoopBackOff", fmt::format("back-off {}s restarting failed container={} pod={}",
                                               current.count(), name, podDescription(pod)));
      events_.container(pod, name, PodEvents::kWarning, "BackOff",
                        fmt::format("Back-off restarting failed container {} in pod {}", name,
                                    podDescription(pod)));
      retryNoLaterThan(result, std::chrono::duration_cast<std::chrono::seconds>(
                                   current - (std::chrono::system_clock::now() - finished)));
      return;
    }
    backoff_.next(key, finished);
  }
  auto imageRef = images_.ensureImage(pod, container, sandbox, pullSecrets(pod));
  if (!imageRef) {
    waitWith(imageRef.error().reason, imageRef.error().message);
    retryNoLaterThan(result, std::chrono::seconds(10));
    return;
  }
  EnvContext env = options_.env;
  env.podIps = podIps;
  auto vars = makeEnvironment(pod, container, objects_, env);
  if (!vars) return failWith("CreateContainerConfigError", vars.error().message());
  std::vector<cri::Mount> mounts;
  if (mountsFn) {
    auto m = mountsFn(container, *vars, podIps);
    if (!m) return failWith("CreateContainerConfigError", m.error().message());
    mounts = std::move(*m);
  }
  auto config = makeContainerConfig({.pod = pod,
                                     .container = container,
                                     .restartCount = restartCount,
                                     .imageRef = *imageRef,
                                     .env = std::move(*vars),
                                     .mounts = std::move(mounts),
                                     .nodeMemoryCapacity = options_.nodeMemoryCapacity,
                                     .cpuCfsQuota = options_.cpuCfsQuota,
                                     .cpuCfsQuotaPeriodUs = options_.cpuCfsQuotaPeriodUs});
  if (!config) return failWith("CreateContainerConfigError", config.error().message());
  auto id = cri_.createContainer(sandboxId, *config, sandbox);
  if (!id) return failWith("CreateContainerError", id.error().message());
  events_.container(pod, name, PodEvents::kNormal, "Created", "Created container: " + name);
  if (auto started = cri_.startContainer(*id); !started) {
    return failWith("RunContainerError", started.error().message());
  }
  events_.container(pod, name, PodEvents::kNormal, "Started", "Started container " + name);
  if (options_.postStart) {
    if (auto hook = options_.postStart(pod, container, *id, podIps.empty() ? "" : podIps.front());
        !hook) {
      kubeletLog()->warn("postStart hook failed, killing the container [pod={} ctr={}]: {}",
                         podDescription(pod), name, hook.error().message());
      // The hook's output stays out of the event: it may hold secrets.
      events_.container(pod, name, PodEvents::kWarning, "FailedPostStartHook",
                        "PostStartHook failed");
      (void)stopContainer(&pod, name, *id, gracePeriod(pod, std::nullopt), "FailedPostStartHook");
      waitWith("PostStartHookError", hook.error().message());
      retryNoLaterThan(result, std::chrono::seconds(10));
      return;
    }
  }
  kubeletLog()->info("started container [pod={} ctr={} id={}]", podDescription(pod), name, *id);
}

SyncResult PodSync::syncPod(const Json& pod, const RuntimePodStatus& status,
                            const ProbeVerdicts& probes, const MountsFn& mounts) {
  SyncResult result;
  const PodActions actions = computePodActions(pod, status, probes);
  if (actions.killPod) {
    if (auto killed = killPod(&pod, status); !killed) {
      result.error = killed.error();
      return result;
    }
    if (!actions.createSandbox) return result;
  }
  for (const auto& k : actions.containersToKill) {
    kubeletLog()->info("killing container [pod={} ctr={}]: {}", podDescription(pod), k.name,
                       k.message);
    // A deletion's grace still wins over the probe's (setTerminationGracePeriod upstream).
    const bool deleting =
        jsonField(jsonField(pod, "metadata"), "deletionGracePeriodSeconds").is_number_integer();
    const std::int64_t grace = gracePeriod(pod, deleting ? std::nullopt : k.probeGracePeriod);
    if (auto stopped = stopContainer(&pod, k.name, k.id, grace, k.message); !stopped) {
      result.error = stopped.error();
      return result;
    }
  }
  SandboxOptions sandboxOptions = options_.sandbox;
  if (options_.cgroupParent) sandboxOptions.cgroupParent = options_.cgroupParent(pod);
  std::uint32_t attempt = actions.createSandbox      ? actions.attempt
                          : status.sandboxes.empty() ? 0
                                                     : status.sandboxes.front().attempt;
  auto sandbox = makeSandboxConfig(pod, attempt, sandboxOptions);
  if (!sandbox) {
    result.error = sandbox.error().context("CreatePodSandboxConfig");
    return result;
  }
  std::string sandboxId = actions.sandboxId;
  std::vector<std::string> podIps;
  if (!status.sandboxes.empty() && !actions.createSandbox) podIps = status.sandboxes.front().ips;
  if (actions.createSandbox) {
    if (!status.sandboxes.empty()) {  // a sandbox died or changed: this one replaces it
      events_.pod(pod, PodEvents::kNormal, "SandboxChanged",
                  "Pod sandbox changed, it will be killed and re-created.");
    }
    auto handler = runtimeHandler(pod);
    auto id = handler ? cri_.runPodSandbox(*sandbox, *handler)
                      : Result<std::string>(std::unexpected(handler.error()));
    if (!id) {
      events_.pod(pod, PodEvents::kWarning, "FailedCreatePodSandBox",
                  "Failed to create pod sandbox: " + id.error().message());
      result.error = id.error().context("CreatePodSandbox");
      retryNoLaterThan(result, std::chrono::seconds(10));
      return result;
    }
    sandboxId = *id;
    kubeletLog()->info("created sandbox [pod={} id={} attempt={}]", podDescription(pod), sandboxId,
                       attempt);
    if (auto st = cri_.podSandboxStatus(sandboxId)) {
      const auto& net = st->status().network();
      if (!net.ip().empty()) podIps.push_back(net.ip());
      for (const auto& ip : net.additional_ips())
        podIps.push_back(ip.ip());
    }
  }
  const Json& spec = jsonField(pod, "spec");
  for (std::size_t i : actions.initContainersToStart) {
    const Json& c = jsonArray(spec, "initContainers")[i];
    startContainer(pod, c, status, sandboxId, *sandbox, podIps, mounts, result);
    if (result.waiting.contains(jsonString(c, "name"))) return result;  // the next ones wait
  }
  for (std::size_t i : actions.containersToStart) {
    startContainer(pod, jsonArray(spec, "containers")[i], status, sandboxId, *sandbox, podIps,
                   mounts, result);
  }
  return result;
}

Status PodSync::stopContainer(const Json* pod, const std::string& name, const std::string& id,
                              std::int64_t grace, std::string why) {
  if (pod) {
    events_.container(*pod, name, PodEvents::kNormal, "Killing",
                      why.empty() ? "Stopping container " + name : std::move(why));
  }
  if (pod && options_.preStop) {
    for (const char* list : {"containers", "initContainers"}) {
      for (const Json& c : jsonArray(jsonField(*pod, "spec"), list)) {
        if (jsonString(c, "name") == name) grace = options_.preStop(*pod, c, id, grace);
      }
    }
  }
  return cri_.stopContainer(id, grace);
}

Status PodSync::killPod(const Json* pod, const RuntimePodStatus& status,
                        std::optional<std::int64_t> gracePeriodOverride) {
  // Sidecars stop after the app containers, in reverse order of their start.
  std::vector<std::string> sidecarOrder;
  if (pod) {
    for (const Json& c : jsonArray(jsonField(*pod, "spec"), "initContainers"))
      if (isSidecar(c)) sidecarOrder.insert(sidecarOrder.begin(), jsonString(c, "name"));
  }
  auto graceFor = [&](const ContainerStatus& c) {
    if (pod) return gracePeriod(*pod, gracePeriodOverride);
    std::int64_t g = gracePeriodOverride.value_or(c.graceSeconds >= 0 ? c.graceSeconds : 30);
    return std::max(g, kMinimumGracePeriodSeconds);
  };
  std::vector<const ContainerStatus*> apps;
  std::vector<const ContainerStatus*> sidecars;
  for (const auto& c : status.containers) {
    if (c.state != ContainerState::kRunning && c.state != ContainerState::kCreated) continue;
    bool sidecar =
        std::find(sidecarOrder.begin(), sidecarOrder.end(), c.name) != sidecarOrder.end();
    (sidecar ? sidecars : apps).push_back(&c);
  }
  std::sort(sidecars.begin(), sidecars.end(), [&](auto* a, auto* b) {
    return std::find(sidecarOrder.begin(), sidecarOrder.end(), a->name) <
           std::find(sidecarOrder.begin(), sidecarOrder.end(), b->name);
  });
  std::vector<Error> errors;
  std::mutex errorsMu;
  auto stop = [&](const ContainerStatus* c) {
    if (auto st = stopContainer(pod, c->name, c->id, graceFor(*c)); !st) {
      std::lock_guard lock(errorsMu);
      errors.push_back(st.error());
    }
  };
  {
    std::vector<std::jthread> stoppers;
    for (const auto* c : apps)
      stoppers.emplace_back(stop, c);
  }
  for (const auto* c : sidecars)
    stop(c);
  for (const auto& s : status.sandboxes) {
    if (!s.ready) continue;
    if (auto st = cri_.stopPodSandbox(s.id); !st) errors.push_back(st.error());
  }
  if (!errors.empty()) return std::unexpected(errors.front().context("KillPod"));
  return {};
}

Status PodSync::removePod(const RuntimePodStatus& status) {
  for (const auto& c : status.containers) {
    if (auto st = cri_.removeContainer(c.id); !st && st.error().code() != Code::kNotFound) {
      return std::unexpected(st.error());
    }
  }
  for (const auto& s : status.sandboxes) {
    BERTH_TRY(cri_.stopPodSandbox(s.id));
    if (auto st = cri_.removePodSandbox(s.id); !st && st.error().code() != Code::kNotFound) {
      return std::unexpected(st.error());
    }
  }
  return {};
}

}  // namespace berth::kubelet
