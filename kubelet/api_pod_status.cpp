#include "kubelet/api_pod_status.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kubeapi/json_fields.h"
#include "kubeapi/pod_qos.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonBool;
using kubeapi::jsonField;
using kubeapi::jsonString;

Json timeOf(std::int64_t nanos) {
  if (nanos <= 0) return nullptr;
  return kubeapi::formatTime(kubeapi::Time(std::chrono::nanoseconds(nanos)));
}

Json terminatedState(const ContainerStatus& st, const std::string& containerId) {
  std::string reason = st.reason;
  if (reason.empty()) reason = st.exitCode == 0 ? "Completed" : "Error";
  Json t = {{"exitCode", st.exitCode},
            {"reason", reason},
            {"startedAt", timeOf(st.startedAt)},
            {"finishedAt", timeOf(st.finishedAt)},
            {"containerID", containerId}};
  if (!st.message.empty()) t["message"] = st.message;
  return {{"terminated", std::move(t)}};
}

// The instance before the newest one of a container (the restart it came from).
const ContainerStatus* previousInstance(const RuntimePodStatus& runtime, const std::string& name) {
  bool seenNewest = false;
  for (const auto& c : runtime.containers) {
    if (c.name != name) continue;
    if (seenNewest) return &c;
    seenNewest = true;
  }
  return nullptr;
}

class StatusBuilder {
 public:
  explicit StatusBuilder(const PodStatusInputs& in) : in_(in), spec_(jsonField(in.pod, "spec")) {}

  Json containerStatus(const Json& container, bool init, bool initializing) const {
    const std::string name = jsonString(container, "name");
    const ContainerStatus* st = in_.runtime.find(name);
    Json s = {{"name", name},
              {"image", jsonString(container, "image")},
              {"imageID", ""},
              {"ready", false},
              {"restartCount", 0},
              {"started", false},
              {"lastState", Json::object()}};
    auto waiting = in_.waiting.find(name);
    if (!st) {
      std::string reason = (init || !initializing) ? "ContainerCreating" : "PodInitializing";
      if (init && initializing) reason = "PodInitializing";
      Json w = {{"reason", reason}};
      if (waiting != in_.waiting.end()) {
        w = {{"reason", waiting->second.reason}};
        if (!waiting->second.message.empty()) w["message"] = waiting->second.message;
      }
      s["state"] = {{"waiting", std::move(w)}};
      return s;
    }
    const std::string id = in_.runtimeName + "://" + st->id;
    s["containerID"] = id;
    s["restartCount"] = st->restartCount;
    if (!st->image.empty()) s["image"] = st->image;
    s["imageID"] = !st->imageRef.empty() ? st->imageRef : st->imageId;
    if (const ContainerStatus* prev = previousInstance(in_.runtime, name)) {
      s["lastState"] = terminatedState(*prev, in_.runtimeName + "://" + prev->id);
    }
    switch (st->state) {
      case ContainerState::kRunning: {
        s["state"] = {{"running", {{"startedAt", timeOf(st->startedAt)}}}};
        bool started = !in_.probes.notStarted.contains(st->id);
        s["started"] = started;
        bool hasReadinessProbe = jsonField(container, "readinessProbe").is_object();
        s["ready"] = started && (!hasReadinessProbe || in_.probes.ready.contains(st->id));
        break;
      }
      case ContainerState::kExited:
        if (waiting != in_.waiting.end()) {
          // Waiting to be restarted (CrashLoopBackOff): the exit becomes the last state.
          Json w = {{"reason", waiting->second.reason}};
          if (!waiting->second.message.empty()) w["message"] = waiting->second.message;
          s["state"] = {{"waiting", std::move(w)}};
          s["lastState"] = terminatedState(*st, id);
        } else {
          s["state"] = terminatedState(*st, id);
        }
        break;
      case ContainerState::kCreated:
        s["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
        break;
      case ContainerState::kUnknown:
        s["state"] = {{"waiting", {{"reason", "ContainerStatusUnknown"}}}};
        break;
    }
    return s;
  }

  // A condition, its lastTransitionTime carried over from the API's copy while its status holds.
  Json condition(const std::string& type, bool status, const std::string& reason = {},
                 const std::string& message = {}) const {
    Json c = {{"type", type}, {"status", status ? "True" : "False"}, {"lastProbeTime", nullptr}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    c["lastTransitionTime"] = kubeapi::formatTime(in_.now);
    for (const Json& old : jsonArray(jsonField(in_.pod, "status"), "conditions")) {
      if (jsonString(old, "type") == type && old.value("status", "") == c["status"] &&
          old.contains("lastTransitionTime")) {
        c["lastTransitionTime"] = old["lastTransitionTime"];
      }
    }
    return c;
  }

  const PodStatusInputs& in_;
  const Json& spec_;
};

std::string bracketList(const std::vector<std::string>& names) {
  return fmt::format("[{}]", fmt::join(names, " "));
}

bool isRunning(const Json& s) {
  return jsonField(jsonField(s, "state"), "running").is_object();
}
bool hasLastTermination(const Json& s) {
  return jsonField(jsonField(s, "lastState"), "terminated").is_object();
}

const Json* findStatus(const Json& statuses, const std::string& name) {
  for (const Json& s : statuses)
    if (jsonString(s, "name") == name) return &s;
  return nullptr;
}

}  // namespace

std::string podPhase(const Json& spec, const Json& initStatuses, const Json& statuses,
                     bool terminal) {
  int pendingSidecars = 0, pendingInit = 0, failedInit = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const Json& c : jsonArray(spec, "initContainers")) {
    const Json* s = findStatus(initStatuses, jsonString(c, "name"));
    const Json& state = s ? jsonField(*s, "state") : Json();
    if (isSidecar(c)) {
      if (!s) {
        ++unknown;
      } else if (state.contains("running")) {
        if (!jsonBool(*s, "started")) ++pendingSidecars;
        ++running;
      } else if (state.contains("waiting") && !hasLastTermination(*s)) {
        ++pendingSidecars;
        ++waiting;
      }
      continue;
    }
    if (!s || state.contains("running")) {
      ++pendingInit;
    } else if (state.contains("terminated")) {
      if (state["terminated"].value("exitCode", 0) != 0) ++failedInit;
    } else if (hasLastTermination(*s)) {
      if (s->at("lastState")["terminated"].value("exitCode", 0) != 0) ++failedInit;
    } else {
      ++pendingInit;
    }
  }
  for (const Json& c : jsonArray(spec, "containers")) {
    const Json* s = findStatus(statuses, jsonString(c, "name"));
    const Json& state = s ? jsonField(*s, "state") : Json();
    if (!s) {
      ++unknown;
    } else if (state.contains("running")) {
      ++running;
    } else if (state.contains("terminated")) {
      ++stopped;
      if (state["terminated"].value("exitCode", 0) == 0) ++succeeded;
    } else if (state.contains("waiting")) {
      hasLastTermination(*s) ? ++stopped : ++waiting;
    } else {
      ++unknown;
    }
  }
  const std::string policy = jsonString(spec, "restartPolicy", "Always");
  if (failedInit > 0 && policy == "Never") return "Failed";
  if (pendingInit > 0 || (pendingSidecars > 0 && running == 0)) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown == 0) return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    if (terminal) return stopped == succeeded ? "Succeeded" : "Failed";
    if (policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

Json generatePodStatus(const PodStatusInputs& in) {
  StatusBuilder b(in);
  const Json& spec = b.spec_;
  const Json& oldStatus = jsonField(in.pod, "status");

  // Initialization: every regular init container succeeded and every sidecar started.
  std::vector<std::string> uninitialized;
  bool appStarted = false;
  for (const Json& c : jsonArray(spec, "containers")) {
    if (in.runtime.find(jsonString(c, "name"))) appStarted = true;
  }
  Json initStatuses = Json::array();
  for (const Json& c : jsonArray(spec, "initContainers")) {
    Json s = b.containerStatus(c, true, true);
    const std::string name = jsonString(c, "name");
    const Json& terminated = jsonField(jsonField(s, "state"), "terminated");
    bool done = isSidecar(c) ? (isRunning(s) && jsonBool(s, "started"))
                             : (appStarted ||
                                (terminated.is_object() && terminated.value("exitCode", -1) == 0));
    if (!done) uninitialized.push_back(name);
    initStatuses.push_back(std::move(s));
  }
  const bool initialized = uninitialized.empty();

  Json statuses = Json::array();
  std::vector<std::string> unready;
  for (const Json& c : jsonArray(spec, "containers")) {
    Json s = b.containerStatus(c, false, !initialized);
    if (!jsonBool(s, "ready")) unready.push_back(jsonString(c, "name"));
    statuses.push_back(std::move(s));
  }
  for (const Json& c : jsonArray(spec, "initContainers")) {
    const Json* s = findStatus(initStatuses, jsonString(c, "name"));
    if (isSidecar(c) && !(s && jsonBool(*s, "ready"))) unready.push_back(jsonString(c, "name"));
  }

  Json status = Json::object();
  status["phase"] = podPhase(spec, initStatuses, statuses, in.terminal);
  const std::string phase = status["phase"];
  const bool completed = phase == "Succeeded" || phase == "Failed";

  // Conditions, in the order the upstream kubelet writes them.
  Json conditions = Json::array();
  bool sandboxReady = !in.runtime.sandboxes.empty() && in.runtime.sandboxes.front().ready;
  conditions.push_back(b.condition("PodReadyToStartContainers", sandboxReady && !completed));
  if (initialized || phase == "Succeeded") {
    conditions.push_back(b.condition("Initialized", true,
                                     phase == "Succeeded" && !initialized ? "PodCompleted" : ""));
  } else {
    conditions.push_back(
        b.condition("Initialized", false, "ContainersNotInitialized",
                    "containers with incomplete status: " + bracketList(uninitialized)));
  }
  std::string notReadyReason, notReadyMessage;
  if (completed) {
    notReadyReason = "PodCompleted";
  } else if (!unready.empty()) {
    notReadyReason = "ContainersNotReady";
    notReadyMessage = "containers with unready status: " + bracketList(unready);
  }
  bool containersReady = notReadyReason.empty();
  // Readiness gates: conditions other controllers set on the pod.
  std::string gateMessage;
  for (const Json& gate : jsonArray(spec, "readinessGates")) {
    const std::string type = jsonString(gate, "conditionType");
    const Json* found = nullptr;
    for (const Json& c : jsonArray(oldStatus, "conditions"))
      if (jsonString(c, "type") == type) found = &c;
    if (!found) {
      gateMessage =
          fmt::format("corresponding condition of pod readiness gate \"{}\" does not exist.", type);
    } else if (jsonString(*found, "status") != "True") {
      gateMessage = fmt::format("the status of pod readiness gate \"{}\" is not \"True\", but {}",
                                type, jsonString(*found, "status"));
    }
    if (!gateMessage.empty()) break;
  }
  if (!containersReady) {
    conditions.push_back(b.condition("Ready", false, notReadyReason, notReadyMessage));
  } else if (!gateMessage.empty()) {
    conditions.push_back(b.condition("Ready", false, "ReadinessGatesNotReady", gateMessage));
  } else {
    conditions.push_back(b.condition("Ready", true));
  }
  conditions.push_back(
      b.condition("ContainersReady", containersReady, notReadyReason, notReadyMessage));
  bool scheduledKept = false;
  for (const Json& c : jsonArray(oldStatus, "conditions")) {
    const std::string type = jsonString(c, "type");
    if (type == "PodScheduled") scheduledKept = true;
    // Conditions other writers own (PodScheduled, readiness gates, DisruptionTarget) stay.
    if (type != "PodReadyToStartContainers" && type != "Initialized" && type != "Ready" &&
        type != "ContainersReady") {
      conditions.push_back(c);
    }
  }
  if (!scheduledKept) conditions.push_back(b.condition("PodScheduled", true));
  status["conditions"] = std::move(conditions);

  // Addresses.
  if (!in.nodeIps.empty()) {
    status["hostIP"] = in.nodeIps.front();
    status["hostIPs"] = Json::array();
    for (const auto& ip : in.nodeIps)
      status["hostIPs"].push_back({{"ip", ip}});
  }
  std::vector<std::string> podIps;
  if (jsonBool(spec, "hostNetwork")) {
    podIps = in.nodeIps;
  } else if (!in.runtime.sandboxes.empty()) {
    podIps = in.runtime.sandboxes.front().ips;
  } else {
    for (const Json& ip : jsonArray(oldStatus, "podIPs"))
      podIps.push_back(jsonString(ip, "ip"));
  }
  if (!podIps.empty()) {
    status["podIP"] = podIps.front();
    status["podIPs"] = Json::array();
    for (const auto& ip : podIps)
      status["podIPs"].push_back({{"ip", ip}});
  }
  status["startTime"] = oldStatus.contains("startTime") && !oldStatus["startTime"].is_null()
                            ? oldStatus["startTime"]
                            : Json(kubeapi::formatTime(in.now));
  if (!jsonArray(spec, "initContainers").empty()) {
    status["initContainerStatuses"] = std::move(initStatuses);
  }
  status["containerStatuses"] = std::move(statuses);
  status["qosClass"] = kubeapi::podQosClass(spec);
  return status;
}

}  // namespace berth::kubelet
