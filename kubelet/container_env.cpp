#include "kubelet/container_env.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/base64.h"
#include "kubeapi/json_fields.h"
#include "kubelet/static_pod.h"
#include "kubelet/volume/downward_api.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonBool;
using kubeapi::jsonField;
using kubeapi::jsonString;

// An ordered map: a later set() of a name replaces its value in place.
class EnvBuilder {
 public:
  void set(const std::string& name, std::string value) {
    auto it = index_.find(name);
    if (it != index_.end()) {
      list_[it->second].second = std::move(value);
      return;
    }
    index_[name] = list_.size();
    list_.emplace_back(name, std::move(value));
  }
  std::optional<std::string> get(std::string_view name) const {
    auto it = index_.find(std::string(name));
    if (it == index_.end()) return std::nullopt;
    return list_[it->second].second;
  }
  EnvList take() { return std::move(list_); }

 private:
  EnvList list_;
  std::map<std::string, std::size_t> index_;
};

// C_IDENTIFIER-ish: what envFrom keys must look like to be used (upstream skips the rest).
bool validEnvName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.starts_with("..")) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::string envName(std::string_view serviceName) {
  std::string out;
  for (char c : serviceName)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

// The string values of a ConfigMap (data, binaryData) or Secret (data, base64).
Result<std::map<std::string, std::string>> objectValues(const Json& obj, bool secret) {
  std::map<std::string, std::string> values;
  for (const auto& [k, v] : jsonField(obj, "data").items()) {
    if (!v.is_string()) continue;
    if (secret) {
      auto decoded = base64Decode(v.get<std::string>());
      if (!decoded) return std::unexpected(decoded.error().context("key " + k));
      values[k] = std::move(*decoded);
    } else {
      values[k] = v.get<std::string>();
    }
  }
  if (secret) {
    for (const auto& [k, v] : jsonField(obj, "stringData").items())
      if (v.is_string()) values[k] = v.get<std::string>();
  }
  return values;
}

// The object of a configMapKeyRef/secretKeyRef/configMapRef/secretRef, or nullopt when it is
// missing and optional.
Result<std::optional<Json>> referenced(ObjectSource& objects, bool secret, const std::string& ns,
                                       const Json& ref) {
  const std::string name = jsonString(ref, "name");
  auto obj = secret ? objects.secret(ns, name) : objects.configMap(ns, name);
  if (obj) return std::optional<Json>(std::move(*obj));
  if (obj.error().code() == Code::kNotFound && jsonBool(ref, "optional")) return std::nullopt;
  return fail(obj.error().code(), "{} \"{}\" not found", secret ? "secret" : "configmap", name);
}

Result<std::optional<std::string>> keyRefValue(ObjectSource& objects, bool secret,
                                               const std::string& ns, const Json& ref) {
  auto obj = BERTH_TRY(referenced(objects, secret, ns, ref));
  if (!obj) return std::nullopt;
  auto values = BERTH_TRY(objectValues(*obj, secret));
  const std::string key = jsonString(ref, "key");
  auto it = values.find(key);
  if (it != values.end()) return it->second;
  if (jsonBool(ref, "optional")) return std::nullopt;
  return fail(Code::kNotFound, "couldn't find key {} in {} {}/{}", key,
              secret ? "Secret" : "ConfigMap", ns, jsonString(ref, "name"));
}

std::string joinIps(const std::vector<std::string>& ips) {
  std::string out;
  for (const auto& ip : ips)
    out += (out.empty() ? "" : ",") + ip;
  return out;
}

}  // namespace

std::string expandVariables(
    std::string_view in,
    const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      std::size_t close = in.find(')', i + 2);
      if (close != std::string_view::npos) {
        std::string_view name = in.substr(i + 2, close - i - 2);
        if (auto v = lookup(name)) {
          out += *v;
        } else {
          out.append(in.substr(i, close - i + 1));
        }
        i = close;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

Result<std::string> podFieldValue(const Json& pod, std::string_view path, const EnvContext& ctx) {
  if (path.starts_with("metadata.")) return volume::downwardApiFieldValue(pod, path);
  if (path == "spec.nodeName") return ctx.nodeName;
  if (path == "spec.serviceAccountName") {
    return jsonString(jsonField(pod, "spec"), "serviceAccountName");
  }
  if (path == "status.hostIP") return ctx.hostIps.empty() ? "" : ctx.hostIps.front();
  if (path == "status.hostIPs") return joinIps(ctx.hostIps);
  if (path == "status.podIP") return ctx.podIps.empty() ? "" : ctx.podIps.front();
  if (path == "status.podIPs") return joinIps(ctx.podIps);
  return fail(Code::kInvalidArgument, "unsupported fieldPath \"{}\"", path);
}

EnvList serviceLinkVariables(const std::vector<Json>& services,
                             const std::vector<Json>& kubernetesService) {
  EnvList out;
  auto add = [&](const Json& svc) {
    const Json& spec = jsonField(svc, "spec");
    const std::string ip = jsonString(spec, "clusterIP");
    const Json& ports = jsonArray(spec, "ports");
    if (ip.empty() || ip == "None" || ports.empty()) return;
    const std::string prefix = envName(jsonString(jsonField(svc, "metadata"), "name"));
    out.emplace_back(prefix + "_SERVICE_HOST", ip);
    out.emplace_back(prefix + "_SERVICE_PORT", std::to_string(ports[0].value("port", 0)));
    for (const Json& p : ports) {
      if (!jsonString(p, "name").empty()) {
        out.emplace_back(prefix + "_SERVICE_PORT_" + envName(jsonString(p, "name")),
                         std::to_string(p.value("port", 0)));
      }
    }
    const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const int port = ports[i].value("port", 0);
      std::string proto = jsonString(ports[i], "protocol", "TCP");
      std::string lower = proto;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      const std::string url = fmt::format("{}://{}:{}", lower, host, port);
      if (i == 0) out.emplace_back(prefix + "_PORT", url);
      const std::string portPrefix = fmt::format("{}_PORT_{}_{}", prefix, port, proto);
      out.emplace_back(portPrefix, url);
      out.emplace_back(portPrefix + "_PROTO", lower);
      out.emplace_back(portPrefix + "_PORT", std::to_string(port));
      out.emplace_back(portPrefix + "_ADDR", ip);
    }
  };
  for (const Json& svc : services)
    add(svc);
  for (const Json& svc : kubernetesService)
    add(svc);
  return out;
}

Result<EnvList> makeEnvironment(const Json& pod, const Json& container, ObjectSource& objects,
                                const EnvContext& ctx) {
  const std::string ns = jsonString(jsonField(pod, "metadata"), "namespace");
  const std::string cname = jsonString(container, "name");
  EnvBuilder env;
  const Json& spec = jsonField(pod, "spec");
  if (jsonBool(spec, "enableServiceLinks", true)) {
    auto services = objects.services(ns);
    // Upstream waits for the Services of API pods only: a static pod starts without them.
    const bool answered = services.has_value();
    if (!answered && isStaticPod(pod)) services = std::vector<Json>();
    if (!services)
      return std::unexpected(services.error().context("container " + cname + ": services"));
    std::vector<Json> kubernetes;
    if (ns != "default" && answered) {
      if (auto all = objects.services("default")) {
        for (const Json& s : *all)
          if (jsonString(jsonField(s, "metadata"), "name") == "kubernetes") kubernetes.push_back(s);
      }
    }
    for (auto& [k, v] : serviceLinkVariables(*services, kubernetes))
      env.set(k, std::move(v));
  }
  for (const Json& from : jsonArray(container, "envFrom")) {
    const std::string prefix = jsonString(from, "prefix");
    const bool secret = from.contains("secretRef");
    const Json& ref = secret ? from["secretRef"] : jsonField(from, "configMapRef");
    auto obj = referenced(objects, secret, ns, ref);
    if (!obj) return std::unexpected(obj.error().context("container " + cname + ": envFrom"));
    if (!*obj) continue;
    auto values = objectValues(**obj, secret);
    if (!values) return std::unexpected(values.error().context("container " + cname + ": envFrom"));
    for (auto& [k, v] : *values) {
      if (validEnvName(prefix + k)) env.set(prefix + k, std::move(v));
    }
  }
  auto lookup = [&](std::string_view name) { return env.get(name); };
  for (const Json& e : jsonArray(container, "env")) {
    const std::string name = jsonString(e, "name");
    const Json& from = jsonField(e, "valueFrom");
    auto where = [&](const Error& err) {
      return std::unexpected(err.context(fmt::format("container {}: env {}", cname, name)));
    };
    if (from.is_null()) {
      env.set(name, expandVariables(jsonString(e, "value"), lookup));
    } else if (from.contains("fieldRef")) {
      auto v = podFieldValue(pod, jsonString(from["fieldRef"], "fieldPath"), ctx);
      if (!v) return where(v.error());
      env.set(name, std::move(*v));
    } else if (from.contains("resourceFieldRef")) {
      // The container defaults to this one (a volume must name it).
      Json ref = from["resourceFieldRef"];
      if (jsonString(ref, "containerName").empty()) ref["containerName"] = cname;
      auto v = volume::downwardApiResourceValue(pod, ref, ctx.nodeAllocatable);
      if (!v) return where(v.error());
      env.set(name, std::move(*v));
    } else if (from.contains("configMapKeyRef") || from.contains("secretKeyRef")) {
      const bool secret = from.contains("secretKeyRef");
      auto v =
          keyRefValue(objects, secret, ns, secret ? from["secretKeyRef"] : from["configMapKeyRef"]);
      if (!v) return where(v.error());
      if (*v) env.set(name, std::move(**v));
    } else {
      return where(Error(Code::kInvalidArgument, "unsupported valueFrom"));
    }
  }
  return env.take();
}

}  // namespace berth::kubelet
