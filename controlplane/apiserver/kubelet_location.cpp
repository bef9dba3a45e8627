#include "controlplane/apiserver/kubelet_location.h"

#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controlplane/apiserver/json_fields.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::apiserver {
namespace {

using kubeapi::jsonArray;

std::optional<std::string_view> param(const QueryParams& query, std::string_view name) {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

// strconv.ParseBool's true spellings, as the query converter reads a bool option.
bool isTrue(std::optional<std::string_view> v) {
  return v && (*v == "1" || *v == "t" || *v == "T" || *v == "true" || *v == "TRUE" || *v == "True");
}

std::vector<std::string> containerNames(const Json& spec) {
  std::vector<std::string> names;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"})
    for (const Json& c : jsonArray(spec, list))
      names.push_back(jsonString(c, "name"));
  return names;
}

std::string podPath(std::string_view endpoint, const Json& pod) {
  const Json& meta = jsonField(pod, "metadata");
  return fmt::format("/{}/{}/{}", endpoint, kubeapi::urlEncode(jsonString(meta, "namespace"), true),
                     kubeapi::urlEncode(jsonString(meta, "name"), true));
}

void addParam(std::string& query, std::string_view name, std::string_view value) {
  query += query.empty() ? '?' : '&';
  query += fmt::format("{}={}", name, kubeapi::urlEncode(value));
}

// An integer option, checked as the query converter and ValidatePodLogOptions check it.
ApiResult<void> addIntParam(std::string& query, const QueryParams& in, std::string_view from,
                            std::string_view to, std::int64_t min) {
  auto v = param(in, from);
  if (!v) return {};
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("{}: strconv.ParseInt: parsing {}: invalid syntax", from, Json(*v).dump())));
  }
  if (n < min) {
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("{}: Invalid value: {}: must be greater than {}", from, n,
                    min == 0 ? "or equal to 0" : fmt::format("{}", min - 1))));
  }
  addParam(query, to, *v);
  return {};
}

}  // namespace

ApiResult<std::string> kubeletBaseUrl(const Json& node,
                                      const std::vector<std::string>& addressTypes) {
  const Json& status = jsonField(node, "status");
  const Json& port =
      jsonField(jsonField(jsonField(status, "daemonEndpoints"), "kubeletEndpoint"), "Port");
  for (const std::string& type : addressTypes) {
    for (const Json& a : jsonArray(status, "addresses")) {
      if (jsonString(a, "type") != type || jsonString(a, "address").empty()) continue;
      std::string host = jsonString(a, "address");
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
      return fmt::format("https://{}:{}", host, port.is_number_integer() ? port.get<int>() : 10250);
    }
  }
  std::vector<std::string> known;
  for (const Json& a : jsonArray(status, "addresses"))
    known.push_back(fmt::format("{{{} {}}}", jsonString(a, "type"), jsonString(a, "address")));
  return apiFail(kubeapi::internalErrorStatus(
      fmt::format("no preferred addresses found; known addresses: [{}]", fmt::join(known, " "))));
}

ApiResult<std::string> podContainer(const Json& pod, std::string_view container) {
  const Json& spec = jsonField(pod, "spec");
  std::string podName = jsonString(jsonField(pod, "metadata"), "name");
  if (container.empty()) {
    const auto& containers = jsonArray(spec, "containers");
    if (containers.size() == 1) return jsonString(containers[0], "name");
    if (containers.empty()) {
      return apiFail(kubeapi::badRequestStatus(
          fmt::format("a container name must be specified for pod {}", podName)));
    }
    return apiFail(kubeapi::badRequestStatus(
        fmt::format("a container name must be specified for pod {}, choose one of: [{}]", podName,
                    fmt::join(containerNames(spec), " "))));
  }
  for (const std::string& name : containerNames(spec))
    if (name == container) return name;
  return apiFail(kubeapi::badRequestStatus(
      fmt::format("container {} is not valid for pod {}", container, podName)));
}

ApiResult<std::string> podLogPath(const Json& pod, const QueryParams& query) {
  std::string container = BERTH_TRY(podContainer(pod, param(query, "container").value_or("")));
  std::string params;
  for (const char* flag : {"follow", "previous", "timestamps"})
    if (isTrue(param(query, flag))) addParam(params, flag, "true");
  BERTH_TRY(addIntParam(params, query, "sinceSeconds", "sinceSeconds", 1));
  if (auto since = param(query, "sinceTime")) {
    if (param(query, "sinceSeconds")) {
      return apiFail(kubeapi::badRequestStatus(
          "at most one of `sinceTime` or `sinceSeconds` may be specified"));
    }
    addParam(params, "sinceTime", *since);
  }
  BERTH_TRY(addIntParam(params, query, "tailLines", "tailLines", 0));
  BERTH_TRY(addIntParam(params, query, "limitBytes", "limitBytes", 1));
  return podPath("containerLogs", pod) + "/" + kubeapi::urlEncode(container, true) + params;
}

ApiResult<std::string> podStreamPath(const Json& pod, std::string_view subresource,
                                     const QueryParams& query) {
  if (jsonString(jsonField(pod, "spec"), "nodeName").empty()) {
    return apiFail(kubeapi::badRequestStatus(fmt::format(
        "pod {} does not have a host assigned", jsonString(jsonField(pod, "metadata"), "name"))));
  }
  if (subresource == "portforward") {
    std::string params;
    for (const auto& [k, v] : query)
      if (k == "ports") addParam(params, "port", v);
    return podPath("portForward", pod) + params;
  }
  std::string container = BERTH_TRY(podContainer(pod, param(query, "container").value_or("")));
  // PodExecOptions' stdin/stdout/stderr/tty become the kubelet's input/output/error/tty.
  std::string params;
  for (auto [from, to] : {std::pair{"stdin", "input"}, std::pair{"stdout", "output"},
                          std::pair{"stderr", "error"}, std::pair{"tty", "tty"}})
    if (isTrue(param(query, from))) addParam(params, to, "1");
  if (subresource == "exec") {
    bool any = false;
    for (const auto& [k, v] : query) {
      if (k != "command") continue;
      addParam(params, "command", v);
      any = true;
    }
    if (!any) {
      return apiFail(kubeapi::badRequestStatus(
          "command: Required value: you must specify at least one command for the container"));
    }
  }
  return fmt::format("{}/{}{}", podPath(subresource == "exec" ? "exec" : "attach", pod),
                     kubeapi::urlEncode(container, true), params);
}

std::string nodeProxyPath(const std::vector<std::string>& rest, bool trailingSlash,
                          std::string_view rawQuery) {
  std::string path;
  for (const std::string& segment : rest)
    path += "/" + kubeapi::urlEncode(segment, true);
  if (path.empty() || trailingSlash) path += "/";
  if (!rawQuery.empty()) path += fmt::format("?{}", rawQuery);
  return path;
}

}  // namespace berth::controlplane::apiserver
