#include "kubelet/prober/prober.h"

#include <regex>

#include "kubeapi/json_fields.h"
#include "kubeapi/version.h"
#include "kubelet/container_env.h"
#include "kubelet/prober/exec_probe.h"
#include "kubelet/prober/grpc_probe.h"
#include "kubelet/prober/http_probe.h"
#include "kubelet/prober/tcp_probe.h"

namespace berth::kubelet::prober {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using Json = nlohmann::json;

namespace {

constexpr int kMaxProbeTries = 3;

// ExpandContainerCommandOnlyStatic: $(VAR) from the container's env values only (valueFrom
// entries read as empty); no pod environment, no Downward API.
std::vector<std::string> expandCommand(const Json& command, const Json& container) {
  std::map<std::string, std::string, std::less<>> env;
  for (const auto& e : jsonArray(container, "env"))
    env[jsonString(e, "name")] = jsonString(e, "value");
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  std::vector<std::string> out;
  for (const auto& arg : command) {
    out.push_back(expandVariables(arg.is_string() ? arg.get<std::string>() : "", lookup));
  }
  return out;
}

}  // namespace

std::string_view probeTypeName(ProbeType type) {
  switch (type) {
    case ProbeType::kLiveness:
      return "Liveness";
    case ProbeType::kReadiness:
      return "Readiness";
    case ProbeType::kStartup:
      return "Startup";
  }
  return "Unknown";
}

std::string kubeUserAgent(std::string_view purpose) {
  static const std::regex kMajorMinor(R"(^v?(\d+\.\d+))");
  std::cmatch m;
  if (std::regex_search(kubeapi::kKubernetesVersion, m, kMajorMinor)) {
    return fmt::format("kube-{}/{}", purpose, m[1].str());
  }
  return fmt::format("kube-{}", purpose);
}

std::int64_t probeField(const Json& probe, std::string_view field) {
  const Json& v = jsonField(probe, field);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (field == "timeoutSeconds" || field == "successThreshold") return 1;
  if (field == "periodSeconds") return 10;
  if (field == "failureThreshold") return 3;
  return 0;
}

Result<ProbeOutcome> Prober::runProbe(const Json& probe, const Json& container,
                                      const std::string& containerId,
                                      const std::string& podIp) const {
  const std::chrono::seconds timeout(probeField(probe, "timeoutSeconds"));
  if (const Json& exec = jsonField(probe, "exec"); exec.is_object()) {
    return execProbe(exec_, containerId, expandCommand(jsonArray(exec, "command"), container),
                     timeout);
  }
  if (const Json& httpGet = jsonField(probe, "httpGet"); httpGet.is_object()) {
    auto req = BERTH_TRY(newHttpGetRequest(httpGet, container, podIp, "probe"));
    return httpProbe(req, timeout);
  }
  if (const Json& tcp = jsonField(probe, "tcpSocket"); tcp.is_object()) {
    const int port =
        BERTH_TRY_CTX(resolveContainerPort(jsonField(tcp, "port"), container), "tcpSocket");
    std::string host = jsonString(tcp, "host");
    return tcpProbe(host.empty() ? podIp : host, port, timeout);
  }
  if (const Json& grpc = jsonField(probe, "grpc"); grpc.is_object()) {
    const Json& port = jsonField(grpc, "port");
    if (!port.is_number_integer()) return fail(Code::kInvalidArgument, "grpc: port is not set");
    return grpcProbe(podIp, port.get<int>(), jsonString(grpc, "service"), timeout);
  }
  return fail(Code::kInvalidArgument, "missing probe handler for container \"{}\"",
              jsonString(container, "name"));
}

Result<ProbeOutcome> Prober::probe(const Json& probe, const Json& container,
                                   const std::string& containerId, const std::string& podIp) const {
  Result<ProbeOutcome> res = runProbe(probe, container, containerId, podIp);
  for (int tries = 1; !res && tries < kMaxProbeTries; ++tries) {
    res = runProbe(probe, container, containerId, podIp);
  }
  return res;
}

}  // namespace berth::kubelet::prober
