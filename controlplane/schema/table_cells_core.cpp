// Cells of the core/v1 kinds (and events.k8s.io Events), as pkg/printers/internalversion prints
// them in 1.32.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "controlplane/schema/table_cells.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

const json& arr(const json& o, std::initializer_list<std::string_view> path) {
  static const json kEmpty = json::array();
  const json& v = at(o, path);
  return v.is_array() ? v : kEmpty;
}

// --- pods ---

bool isRestartable(const json* initContainer) {
  return initContainer != nullptr && str(*initContainer, {"restartPolicy"}) == "Always";
}

bool conditionTrue(const json& pod, std::string_view type) {
  for (const json& c : arr(pod, {"status", "conditions"}))
    if (str(c, {"type"}) == type && str(c, {"status"}) == "True") return true;
  return false;
}

struct PodSummary {
  std::string ready, reason, restarts;
};

// printPod's READY, STATUS and RESTARTS.
PodSummary summarize(const json& pod, const CellContext& ctx) {
  int restarts = 0, restartableRestarts = 0, ready = 0;
  int total = static_cast<int>(arr(pod, {"spec", "containers"}).size());
  std::optional<TimePoint> lastRestart, lastRestartableRestart;
  auto later = [](std::optional<TimePoint>& cur, const json& state) {
    auto t = parseTime(str(state, {"terminated", "finishedAt"}));
    if (at(state, {"terminated"}).is_object() && t && (!cur || *cur < *t)) cur = t;
  };
  std::string phase = str(pod, {"status", "phase"});
  std::string reason = phase;
  if (std::string r = str(pod, {"status", "reason"}); !r.empty()) reason = r;
  for (const json& c : arr(pod, {"status", "conditions"}))
    if (str(c, {"type"}) == "PodScheduled" && str(c, {"reason"}) == "SchedulingGated")
      reason = "SchedulingGated";
  const json& inits = arr(pod, {"spec", "initContainers"});
  auto initNamed = [&](const std::string& name) -> const json* {
    for (const json& c : inits)
      if (str(c, {"name"}) == name) return &c;
    return nullptr;
  };
  for (const json& c : inits)
    if (isRestartable(&c)) ++total;

  bool initializing = false;
  const json& initStatuses = arr(pod, {"status", "initContainerStatuses"});
  for (std::size_t i = 0; i < initStatuses.size(); ++i) {
    const json& cs = initStatuses[i];
    int count = static_cast<int>(integer(cs, {"restartCount"}));
    restarts += count;
    later(lastRestart, at(cs, {"lastState"}));
    bool restartable = isRestartable(initNamed(str(cs, {"name"})));
    if (restartable) {
      restartableRestarts += count;
      later(lastRestartableRestart, at(cs, {"lastState"}));
    }
    const json& terminated = at(cs, {"state", "terminated"});
    const json& waiting = at(cs, {"state", "waiting"});
    if (terminated.is_object() && integer(terminated, {"exitCode"}) == 0) continue;
    if (restartable && at(cs, {"started"}) == true) {
      if (at(cs, {"ready"}) == true) ++ready;
      continue;
    }
    if (terminated.is_object()) {
      std::string r = str(terminated, {"reason"});
      if (!r.empty()) {
        reason = "Init:" + r;
      } else if (std::int64_t sig = integer(terminated, {"signal"}); sig != 0) {
        reason = fmt::format("Init:Signal:{}", sig);
      } else {
        reason = fmt::format("Init:ExitCode:{}", integer(terminated, {"exitCode"}));
      }
    } else if (waiting.is_object() && !str(waiting, {"reason"}).empty() &&
               str(waiting, {"reason"}) != "PodInitializing") {
      reason = "Init:" + str(waiting, {"reason"});
    } else {
      reason = fmt::format("Init:{}/{}", i, inits.size());
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, "Initialized")) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    bool hasRunning = false;
    const json& statuses = arr(pod, {"status", "containerStatuses"});
    for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
      const json& cs = *it;
      restarts += static_cast<int>(integer(cs, {"restartCount"}));
      later(lastRestart, at(cs, {"lastState"}));
      const json& terminated = at(cs, {"state", "terminated"});
      const json& waiting = at(cs, {"state", "waiting"});
      if (waiting.is_object() && !str(waiting, {"reason"}).empty()) {
        reason = str(waiting, {"reason"});
      } else if (terminated.is_object() && !str(terminated, {"reason"}).empty()) {
        reason = str(terminated, {"reason"});
      } else if (terminated.is_object()) {
        std::int64_t sig = integer(terminated, {"signal"});
        reason = sig != 0 ? fmt::format("Signal:{}", sig)
                          : fmt::format("ExitCode:{}", integer(terminated, {"exitCode"}));
      } else if (at(cs, {"ready"}) == true && at(cs, {"state", "running"}).is_object()) {
        hasRunning = true;
        ++ready;
      }
    }
    if (reason == "Completed" && hasRunning)
      reason = conditionTrue(pod, "Ready") ? "Running" : "NotReady";
  }

  bool deleting = !at(pod, {"metadata", "deletionTimestamp"}).is_null();
  if (deleting && str(pod, {"status", "reason"}) == "NodeLost") {
    reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }
  std::string restartText = std::to_string(restarts);
  if (restarts != 0 && lastRestart)
    restartText = fmt::format("{} ({} ago)", restarts, humanDuration(ctx.now - *lastRestart));
  return {fmt::format("{}/{}", ready, total), reason, restartText};
}

json podReady(const json& o, const CellContext& c) {
  return summarize(o, c).ready;
}
json podStatus(const json& o, const CellContext& c) {
  return summarize(o, c).reason;
}
json podRestarts(const json& o, const CellContext& c) {
  return summarize(o, c).restarts;
}

std::string orNone(std::string s) {
  return s.empty() ? "<none>" : s;
}
std::string orUnknown(std::string s) {
  return s.empty() ? "<unknown>" : s;
}

json podIP(const json& o, const CellContext&) {
  const json& ips = arr(o, {"status", "podIPs"});
  return orNone(ips.empty() ? std::string() : str(ips[0], {"ip"}));
}
json podNode(const json& o, const CellContext&) {
  return orNone(str(o, {"spec", "nodeName"}));
}
json podNominatedNode(const json& o, const CellContext&) {
  return orNone(str(o, {"status", "nominatedNodeName"}));
}
json podReadinessGates(const json& o, const CellContext&) {
  const json& gates = arr(o, {"spec", "readinessGates"});
  if (gates.empty()) return "<none>";
  int trueConditions = 0;
  for (const json& g : gates) {
    for (const json& c : arr(o, {"status", "conditions"})) {
      if (str(c, {"type"}) != str(g, {"conditionType"})) continue;
      if (str(c, {"status"}) == "True") ++trueConditions;
      break;
    }
  }
  return fmt::format("{}/{}", trueConditions, gates.size());
}

// --- services and endpoints ---

std::string joinHostPort(const std::string& host, std::int64_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

json serviceClusterIP(const json& o, const CellContext&) {
  const json& ips = arr(o, {"spec", "clusterIPs"});
  return ips.empty() || !ips[0].is_string() ? std::string("<none>") : ips[0].get<std::string>();
}

json serviceExternalIP(const json& o, const CellContext&) {
  std::vector<std::string> external;
  for (const json& ip : arr(o, {"spec", "externalIPs"}))
    if (ip.is_string()) external.push_back(ip.get<std::string>());
  std::string type = str(o, {"spec", "type"});
  if (type == "ClusterIP" || type == "NodePort")
    return external.empty() ? "<none>" : join(external, ",");
  if (type == "LoadBalancer") {
    // The server prints wide: load balancer addresses are not shortened.
    std::set<std::string> lb;
    for (const json& in : arr(o, {"status", "loadBalancer", "ingress"})) {
      if (std::string ip = str(in, {"ip"}); !ip.empty()) {
        lb.insert(ip);
      } else if (std::string host = str(in, {"hostname"}); !host.empty()) {
        lb.insert(host);
      }
    }
    std::vector<std::string> all(lb.begin(), lb.end());
    if (!external.empty()) {
      all.insert(all.end(), external.begin(), external.end());
      return join(all, ",");
    }
    return all.empty() ? "<pending>" : join(all, ",");
  }
  if (type == "ExternalName") return str(o, {"spec", "externalName"});
  return "<unknown>";
}

json servicePorts(const json& o, const CellContext&) {
  std::vector<std::string> parts;
  for (const json& p : arr(o, {"spec", "ports"})) {
    std::int64_t nodePort = integer(p, {"nodePort"});
    parts.push_back(
        nodePort > 0 ? fmt::format("{}:{}/{}", integer(p, {"port"}), nodePort, str(p, {"protocol"}))
                     : fmt::format("{}/{}", integer(p, {"port"}), str(p, {"protocol"})));
  }
  return orNone(join(parts, ","));
}

json serviceSelector(const json& o, const CellContext&) {
  return formatLabels(at(o, {"spec", "selector"}));
}

json endpointsAddresses(const json& o, const CellContext&) {
  const json& subsets = arr(o, {"subsets"});
  if (subsets.empty()) return "<none>";
  constexpr std::size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  std::size_t count = 0;
  for (const json& ss : subsets) {
    const json& addresses = arr(ss, {"addresses"});
    const json& ports = arr(ss, {"ports"});
    if (ports.empty()) {  // a headless service with no ports
      count += addresses.size();
      for (const json& a : addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(str(a, {"ip"}));
      }
      continue;
    }
    for (const json& port : ports) {
      count += addresses.size();
      for (const json& a : addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(joinHostPort(str(a, {"ip"}), integer(port, {"port"})));
      }
    }
  }
  std::string ret = join(list, ",");
  return more ? fmt::format("{} + {} more...", ret, count - kMax) : ret;
}

// --- nodes ---

json nodeStatus(const json& o, const CellContext&) {
  std::vector<std::string> status;
  for (const json& c : arr(o, {"status", "conditions"})) {
    if (str(c, {"type"}) != "Ready") continue;
    status = {str(c, {"status"}) == "True" ? "Ready" : "NotReady"};  // the last one wins
  }
  if (status.empty()) status.push_back("Unknown");
  if (at(o, {"spec", "unschedulable"}) == true) status.push_back("SchedulingDisabled");
  return join(status, ",");
}

json nodeRoles(const json& o, const CellContext&) {
  std::set<std::string> roles;
  constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
  for (const auto& [k, v] : at(o, {"metadata", "labels"}).items()) {
    if (k.starts_with(kPrefix)) {
      if (k.size() > kPrefix.size()) roles.insert(k.substr(kPrefix.size()));
    } else if (k == "kubernetes.io/role" && v.is_string() && !v.get<std::string>().empty()) {
      roles.insert(v.get<std::string>());
    }
  }
  return orNone(join({roles.begin(), roles.end()}, ","));
}

std::string nodeAddress(const json& o, std::string_view type) {
  for (const json& a : arr(o, {"status", "addresses"}))
    if (str(a, {"type"}) == type) return str(a, {"address"});
  return "<none>";
}
json nodeInternalIP(const json& o, const CellContext&) {
  return nodeAddress(o, "InternalIP");
}
json nodeExternalIP(const json& o, const CellContext&) {
  return nodeAddress(o, "ExternalIP");
}
json nodeOSImage(const json& o, const CellContext&) {
  return orUnknown(str(o, {"status", "nodeInfo", "osImage"}));
}
json nodeKernelVersion(const json& o, const CellContext&) {
  return orUnknown(str(o, {"status", "nodeInfo", "kernelVersion"}));
}
json nodeContainerRuntime(const json& o, const CellContext&) {
  return orUnknown(str(o, {"status", "nodeInfo", "containerRuntimeVersion"}));
}

// --- events: core/v1 and events.k8s.io/v1 (printed as the internal Event they both convert to)

struct EventView {
  const json* object;
  bool v1;  // events.k8s.io
  std::string field(std::string_view core, std::string_view events) const {
    return str(*object, {v1 ? events : core});
  }
  const json& value(std::string_view core, std::string_view events) const {
    return at(*object, {v1 ? events : core});
  }
};
EventView view(const json& o) {
  return {&o, str(o, {"apiVersion"}) == "events.k8s.io/v1" || o.contains("regarding") ||
                  o.contains("note")};
}

std::string eventFirst(const EventView& e, const CellContext& ctx) {
  const json& first = e.value("firstTimestamp", "deprecatedFirstTimestamp");
  return first.is_string() && !first.get<std::string>().empty()
             ? since(first, ctx)
             : since(e.value("eventTime", "eventTime"), ctx);
}

json eventFirstSeen(const json& o, const CellContext& c) {
  return eventFirst(view(o), c);
}
json eventLastSeen(const json& o, const CellContext& c) {
  EventView e = view(o);
  if (const json& series = e.value("series", "series"); series.is_object())
    return since(at(series, {"lastObservedTime"}), c);
  const json& last = e.value("lastTimestamp", "deprecatedLastTimestamp");
  return last.is_string() && !last.get<std::string>().empty() ? since(last, c) : eventFirst(e, c);
}
json eventCount(const json& o, const CellContext&) {
  EventView e = view(o);
  if (const json& series = e.value("series", "series"); series.is_object())
    return integer(series, {"count"});
  std::int64_t count = integer(o, {e.v1 ? "deprecatedCount" : "count"});
  return count == 0 ? 1 : count;  // singleton events have no count in the new API
}
json eventObject(const json& o, const CellContext&) {
  EventView e = view(o);
  const json& ref = e.value("involvedObject", "regarding");
  std::string kind = str(ref, {"kind"});
  std::ranges::transform(kind, kind.begin(), [](unsigned char ch) { return std::tolower(ch); });
  std::string name = str(ref, {"name"});
  return name.empty() ? kind : kind + "/" + name;
}
json eventSubobject(const json& o, const CellContext&) {
  return str(view(o).value("involvedObject", "regarding"), {"fieldPath"});
}
json eventSource(const json& o, const CellContext&) {
  EventView e = view(o);
  const json& source = e.value("source", "deprecatedSource");
  std::string component = str(source, {"component"});
  if (component.empty()) component = e.field("reportingComponent", "reportingController");
  std::string instance = str(source, {"host"});
  if (instance.empty()) instance = e.field("reportingInstance", "reportingInstance");
  return instance.empty() ? component : component + ", " + instance;
}
json eventMessage(const json& o, const CellContext&) {
  std::string m = view(o).field("message", "note");
  std::size_t b = m.find_first_not_of(" \t\n\r\v\f");
  if (b == std::string::npos) return "";
  return m.substr(b, m.find_last_not_of(" \t\n\r\v\f") - b + 1);
}

// --- config and storage ---

json secretData(const json& o, const CellContext&) {
  return static_cast<std::int64_t>(at(o, {"data"}).is_object() ? at(o, {"data"}).size() : 0);
}
json serviceAccountSecrets(const json& o, const CellContext&) {
  return static_cast<std::int64_t>(arr(o, {"secrets"}).size());
}
json configMapData(const json& o, const CellContext&) {
  std::size_t n = 0;
  for (const char* k : {"data", "binaryData"})
    if (at(o, {k}).is_object()) n += at(o, {k}).size();
  return static_cast<std::int64_t>(n);
}

// helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order.
std::string accessModes(const json& modes) {
  std::vector<std::string> out;
  auto has = [&](std::string_view m) {
    return std::ranges::any_of(modes.is_array() ? modes : json::array(),
                               [&](const json& x) { return x == m; });
  };
  for (auto [mode, shortName] : {std::pair{"ReadWriteOnce", "RWO"},
                                 {"ReadOnlyMany", "ROX"},
                                 {"ReadWriteMany", "RWX"},
                                 {"ReadWriteOncePod", "RWOP"}})
    if (has(mode)) out.push_back(shortName);
  return join(out, ",");
}

constexpr std::string_view kBetaStorageClass = "volume.beta.kubernetes.io/storage-class";

std::string phaseOrTerminating(const json& o) {
  return at(o, {"metadata", "deletionTimestamp"}).is_null() ? str(o, {"status", "phase"})
                                                            : "Terminating";
}
std::string quantity(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.is_number() ? v.dump() : "0";  // a zero Quantity prints "0"
}
std::string orUnset(const json& v) {
  return v.is_string() ? v.get<std::string>() : "<unset>";
}

json pvCapacity(const json& o, const CellContext&) {
  return quantity(at(o, {"spec", "capacity", "storage"}));
}
json pvAccessModes(const json& o, const CellContext&) {
  return accessModes(at(o, {"spec", "accessModes"}));
}
json pvStatus(const json& o, const CellContext&) {
  return phaseOrTerminating(o);
}
json pvClaim(const json& o, const CellContext&) {
  const json& ref = at(o, {"spec", "claimRef"});
  return ref.is_object() ? str(ref, {"namespace"}) + "/" + str(ref, {"name"}) : std::string();
}
json pvStorageClass(const json& o, const CellContext&) {
  const json& beta = at(o, {"metadata", "annotations", kBetaStorageClass});
  return beta.is_string() ? beta.get<std::string>() : str(o, {"spec", "storageClassName"});
}
json pvVolumeAttributesClass(const json& o, const CellContext&) {
  return orUnset(at(o, {"spec", "volumeAttributesClassName"}));
}
json pvVolumeMode(const json& o, const CellContext&) {
  return orUnset(at(o, {"spec", "volumeMode"}));
}

json pvcStatus(const json& o, const CellContext&) {
  return phaseOrTerminating(o);
}
json pvcCapacity(const json& o, const CellContext&) {
  if (str(o, {"spec", "volumeName"}).empty()) return "";
  return quantity(at(o, {"status", "capacity", "storage"}));
}
json pvcAccessModes(const json& o, const CellContext&) {
  if (str(o, {"spec", "volumeName"}).empty()) return "";
  return accessModes(at(o, {"status", "accessModes"}));
}
json pvcStorageClass(const json& o, const CellContext& c) {
  return pvStorageClass(o, c);
}
json pvcVolumeAttributesClass(const json& o, const CellContext& c) {
  return pvVolumeAttributesClass(o, c);
}
json pvcVolumeMode(const json& o, const CellContext& c) {
  return pvVolumeMode(o, c);
}

constexpr NamedCell kCoreCells[] = {
    {"podReady", podReady},
    {"podStatus", podStatus},
    {"podRestarts", podRestarts},
    {"podIP", podIP},
    {"podNode", podNode},
    {"podNominatedNode", podNominatedNode},
    {"podReadinessGates", podReadinessGates},
    {"serviceClusterIP", serviceClusterIP},
    {"serviceExternalIP", serviceExternalIP},
    {"servicePorts", servicePorts},
    {"serviceSelector", serviceSelector},
    {"endpointsAddresses", endpointsAddresses},
    {"nodeStatus", nodeStatus},
    {"nodeRoles", nodeRoles},
    {"nodeInternalIP", nodeInternalIP},
    {"nodeExternalIP", nodeExternalIP},
    {"nodeOSImage", nodeOSImage},
    {"nodeKernelVersion", nodeKernelVersion},
    {"nodeContainerRuntime", nodeContainerRuntime},
    {"eventLastSeen", eventLastSeen},
    {"eventFirstSeen", eventFirstSeen},
    {"eventCount", eventCount},
    {"eventObject", eventObject},
    {"eventSubobject", eventSubobject},
    {"eventSource", eventSource},
    {"eventMessage", eventMessage},
    {"secretData", secretData},
    {"serviceAccountSecrets", serviceAccountSecrets},
    {"configMapData", configMapData},
    {"pvCapacity", pvCapacity},
    {"pvAccessModes", pvAccessModes},
    {"pvStatus", pvStatus},
    {"pvClaim", pvClaim},
    {"pvStorageClass", pvStorageClass},
    {"pvVolumeAttributesClass", pvVolumeAttributesClass},
    {"pvVolumeMode", pvVolumeMode},
    {"pvcStatus", pvcStatus},
    {"pvcCapacity", pvcCapacity},
    {"pvcAccessModes", pvcAccessModes},
    {"pvcStorageClass", pvcStorageClass},
    {"pvcVolumeAttributesClass", pvcVolumeAttributesClass},
    {"pvcVolumeMode", pvcVolumeMode},
};

}  // namespace

std::span<const NamedCell> coreCells() {
  return kCoreCells;
}

}  // namespace berth::controlplane::schema
