#include "kubelet/server_host.h"

#include <fmt/format.h>

#include "kubeapi/go_format.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"
#include "kubelet/runtime_state.h"

namespace berth::kubelet {
namespace {

std::string label(const google::protobuf::Map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// Prometheus label values escape backslash, quote and newline.
std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

}  // namespace

std::string renderProbeMetrics(const std::vector<prober::ProbeCounter>& counters) {
  std::string out =
      "# HELP prober_probe_total [ALPHA] Cumulative number of a liveness, readiness or startup "
      "probe for a container by result.\n"
      "# TYPE prober_probe_total counter\n";
  for (const auto& c : counters) {
    out += fmt::format(
        "prober_probe_total{{container=\"{}\",namespace=\"{}\",pod=\"{}\",pod_uid=\"{}\","
        "probe_type=\"{}\",result=\"{}\"}} {}\n",
        escapeLabel(c.container), escapeLabel(c.ns), escapeLabel(c.pod), escapeLabel(c.podUid),
        c.probeType, c.result, c.value);
  }
  return out;
}

std::vector<nlohmann::json> NodeServerHost::pods() {
  std::vector<nlohmann::json> out;
  for (const auto& p : pods_.pods())
    out.push_back(*p);
  return out;
}

std::vector<nlohmann::json> NodeServerHost::runningPods() {
  std::map<std::string, nlohmann::json> byUid;
  auto sandboxes = cri_.listPodSandbox();
  auto containers = cri_.listContainers();
  if (!sandboxes || !containers) return {};
  for (const auto& s : *sandboxes) {
    if (s.state() != cri::SANDBOX_READY) continue;
    nlohmann::json& pod = byUid[s.metadata().uid()];
    pod = {{"metadata",
            {{"name", s.metadata().name()},
             {"namespace", s.metadata().namespace_()},
             {"uid", s.metadata().uid()}}},
           {"spec", {{"containers", nlohmann::json::array()}}},
           {"status", nlohmann::json::object()}};
  }
  for (const auto& c : *containers) {
    if (c.state() != cri::CONTAINER_RUNNING) continue;
    auto it = byUid.find(label(c.labels(), kPodUidLabel));
    if (it == byUid.end()) continue;
    it->second["spec"]["containers"].push_back(
        {{"name", c.metadata().name()}, {"image", c.image().image()}});
  }
  std::vector<nlohmann::json> out;
  for (auto& [uid, pod] : byUid)
    out.push_back(std::move(pod));
  return out;
}

Result<std::string> NodeServerHost::podUid(const std::string& ns, const std::string& pod,
                                           const std::string& wantUid) const {
  auto p = pods_.podByKey(kubeapi::objectKey(ns, pod));
  if (!p) return fail(Code::kNotFound, "pod \"{}\" not found in namespace \"{}\"", pod, ns);
  std::string uid(kubeapi::uidOf(*p));
  if (!wantUid.empty() && wantUid != uid) {
    return fail(Code::kNotFound, "pod \"{}/{}\" has no UID {}", ns, pod, wantUid);
  }
  return uid;
}

Result<server::ContainerLogLocation> NodeServerHost::containerLog(const std::string& ns,
                                                                  const std::string& pod,
                                                                  const std::string& container,
                                                                  bool previous) {
  const std::string uid = BERTH_TRY(podUid(ns, pod, ""));
  auto status = BERTH_TRY(runtimePodStatus(cri_, uid));
  int seen = 0;
  for (const auto& c : status.containers) {  // newest first
    if (c.name != container) continue;
    if (previous && seen++ == 0) continue;
    std::string path = c.logPath;
    if (!path.empty() && path.front() != '/') {
      path = fmt::format("{}/{}_{}_{}/{}", podLogsDir_, ns, pod, uid, path);
    }
    return server::ContainerLogLocation{path, c.id};
  }
  if (previous) {
    return fail(Code::kNotFound, "previous terminated container \"{}\" in pod \"{}\" not found",
                container, pod);
  }
  return fail(Code::kNotFound, "container \"{}\" in pod \"{}\" is waiting to start", container,
              pod);
}

bool NodeServerHost::containerRunning(const std::string& id) {
  auto st = cri_.containerStatus(id);
  return st && st->status().state() == cri::CONTAINER_RUNNING;
}

Result<std::string> NodeServerHost::containerId(const std::string& ns, const std::string& pod,
                                                const std::string& wantUid,
                                                const std::string& container) {
  const std::string uid = BERTH_TRY(podUid(ns, pod, wantUid));
  auto status = BERTH_TRY(runtimePodStatus(cri_, uid));
  for (const auto& c : status.containers) {
    if (c.name == container && c.state == ContainerState::kRunning) return c.id;
  }
  return fail(Code::kNotFound, "container \"{}\" not found in pod \"{}/{}\"", container, ns, pod);
}

Result<std::string> NodeServerHost::podSandboxId(const std::string& ns, const std::string& pod,
                                                 const std::string& wantUid) {
  const std::string uid = BERTH_TRY(podUid(ns, pod, wantUid));
  auto status = BERTH_TRY(runtimePodStatus(cri_, uid));
  for (const auto& s : status.sandboxes)
    if (s.ready) return s.id;
  return fail(Code::kNotFound, "pod \"{}/{}\" has no running sandbox", ns, pod);
}

Status NodeServerHost::syncLoopHealthy() {
  if (healthy_()) return {};
  return fail(Code::kUnavailable, "pleg was last seen active too long ago");
}

std::string NodeServerHost::probeMetrics() {
  return renderProbeMetrics(probes_.counters());
}

std::string NodeServerHost::kubeletMetrics() {
  const double seconds = static_cast<double>(pleg_.relistMicros.load()) / 1e6;
  const std::uint64_t relists = pleg_.relists.load();
  return fmt::format(
      "# HELP kubelet_pleg_relist_duration_seconds [ALPHA] Duration in seconds for relisting pods "
      "in PLEG.\n"
      "# TYPE kubelet_pleg_relist_duration_seconds histogram\n"
      "kubelet_pleg_relist_duration_seconds_bucket{{le=\"+Inf\"}} {0}\n"
      "kubelet_pleg_relist_duration_seconds_sum {1}\n"
      "kubelet_pleg_relist_duration_seconds_count {0}\n"
      "# HELP kubelet_evented_pleg_connection_success_count [ALPHA] The number of times a CRI "
      "client has successfully connected to the runtime's container event stream.\n"
      "# TYPE kubelet_evented_pleg_connection_success_count counter\n"
      "kubelet_evented_pleg_connection_success_count {2}\n"
      "# HELP kubelet_evented_pleg_connection_error_count [ALPHA] The number of errors "
      "encountered during the establishment of streaming connection with the CRI runtime.\n"
      "# TYPE kubelet_evented_pleg_connection_error_count counter\n"
      "kubelet_evented_pleg_connection_error_count {3}\n",
      relists, kubeapi::goFloat(seconds), pleg_.eventedConnections.load(),
      pleg_.eventedErrors.load());
}

}  // namespace berth::kubelet
