#include "kubelet/runtime_state.h"

#include <algorithm>
#include <charconv>

#include "kubelet/cri_log.h"
#include "kubelet/pod_files.h"

namespace berth::kubelet {
namespace {

std::string label(const google::protobuf::Map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

template <class T>
T parseNumber(const std::string& text, int base = 10) {
  T value{};
  std::from_chars(text.data(), text.data() + text.size(), value, base);
  return value;
}

ContainerState stateOf(cri::ContainerState s) {
  switch (s) {
    case cri::CONTAINER_CREATED:
      return ContainerState::kCreated;
    case cri::CONTAINER_RUNNING:
      return ContainerState::kRunning;
    case cri::CONTAINER_EXITED:
      return ContainerState::kExited;
    default:
      return ContainerState::kUnknown;
  }
}

}  // namespace

ContainerStatus toContainerStatus(const cri::ContainerStatus& s) {
  ContainerStatus out;
  out.id = s.id();
  out.name = label(s.labels(), kContainerNameLabel);
  if (out.name.empty()) out.name = s.metadata().name();
  out.state = stateOf(s.state());
  out.createdAt = s.created_at();
  out.startedAt = s.started_at();
  out.finishedAt = s.finished_at();
  out.exitCode = s.exit_code();
  out.reason = s.reason();
  out.message = s.message();
  out.image = s.image().user_specified_image().empty() ? s.image().image()
                                                       : s.image().user_specified_image();
  out.imageRef = s.image_ref();
  out.imageId = s.image_id();
  out.hash = parseNumber<std::uint64_t>(label(s.annotations(), kContainerHashAnnotation), 16);
  out.restartCount = parseNumber<int>(label(s.annotations(), kRestartCountAnnotation));
  out.logPath = s.log_path();
  if (auto grace = label(s.annotations(), kTerminationGraceAnnotation); !grace.empty()) {
    out.graceSeconds = parseNumber<std::int64_t>(grace);
  }
  // The termination message (convertToKubeContainerStatus upstream): the file the kubelet
  // mounted at terminationMessagePath (4 KiB at most); with FallbackToLogsOnError and a failed
  // container that wrote none, the end of its log. It follows the runtime's own message.
  if (out.state == ContainerState::kExited) {
    const bool fallbackToLogs =
        label(s.annotations(), kTerminationMessagePolicyAnnotation) == "FallbackToLogsOnError" &&
        out.exitCode != 0 && out.reason != "ContainerCannotRun";
    const std::string inContainer = label(s.annotations(), kTerminationMessagePathAnnotation);
    std::string message;
    for (const auto& m : s.mounts()) {
      if (!inContainer.empty() && m.container_path() == inContainer) {
        message = readTerminationMessage(m.host_path());
      }
    }
    if (message.empty() && fallbackToLogs && !out.logPath.empty()) {
      message = lastLogOutput(out.logPath);
    }
    if (!message.empty())
      out.message = out.message.empty() ? message : out.message + ": " + message;
  }
  return out;
}

Result<std::map<std::string, RuntimePodSummary>> listRuntimePods(CriClient& cri) {
  std::map<std::string, RuntimePodSummary> pods;
  for (const auto& s : BERTH_TRY(cri.listPodSandbox())) {
    std::string uid = label(s.labels(), kPodUidLabel);
    if (uid.empty()) uid = s.metadata().uid();
    auto& pod = pods[uid];
    pod.name = s.metadata().name();
    pod.ns = s.metadata().namespace_();
    pod.states[s.id()] = cri::PodSandboxState_Name(s.state());
  }
  for (const auto& c : BERTH_TRY(cri.listContainers())) {
    const std::string uid = label(c.labels(), kPodUidLabel);
    if (uid.empty()) continue;  // not a kubelet's container
    auto& pod = pods[uid];
    if (pod.name.empty()) {
      pod.name = label(c.labels(), kPodNameLabel);
      pod.ns = label(c.labels(), kPodNamespaceLabel);
    }
    pod.states[c.id()] = cri::ContainerState_Name(c.state());
  }
  return pods;
}

Result<RuntimePodStatus> runtimePodStatus(CriClient& cri, const std::string& uid) {
  RuntimePodStatus pod;
  pod.uid = uid;
  cri::PodSandboxFilter sandboxFilter;
  (*sandboxFilter.mutable_label_selector())[kPodUidLabel] = uid;
  for (const auto& s : BERTH_TRY(cri.listPodSandbox(sandboxFilter))) {
    auto status = cri.podSandboxStatus(s.id());
    if (!status) {
      if (status.error().code() == Code::kNotFound) continue;  // removed meanwhile
      return std::unexpected(status.error());
    }
    const auto& st = status->status();
    SandboxStatus out;
    out.id = st.id();
    out.ready = st.state() == cri::SANDBOX_READY;
    out.attempt = st.metadata().attempt();
    out.createdAt = st.created_at();
    if (!st.network().ip().empty()) out.ips.push_back(st.network().ip());
    for (const auto& ip : st.network().additional_ips())
      out.ips.push_back(ip.ip());
    pod.name = st.metadata().name();
    pod.ns = st.metadata().namespace_();
    pod.sandboxes.push_back(std::move(out));
  }
  cri::ContainerFilter containerFilter;
  (*containerFilter.mutable_label_selector())[kPodUidLabel] = uid;
  for (const auto& c : BERTH_TRY(cri.listContainers(containerFilter))) {
    auto status = cri.containerStatus(c.id());
    if (!status) {
      if (status.error().code() == Code::kNotFound) continue;
      return std::unexpected(status.error());
    }
    pod.containers.push_back(toContainerStatus(status->status()));
  }
  std::sort(pod.sandboxes.begin(), pod.sandboxes.end(),
            [](const auto& a, const auto& b) { return a.createdAt > b.createdAt; });
  std::sort(pod.containers.begin(), pod.containers.end(),
            [](const auto& a, const auto& b) { return a.createdAt > b.createdAt; });
  return pod;
}

}  // namespace berth::kubelet
