#include "controlplane/controllers/endpoint_pods.h"

#include <algorithm>

#include "common/ip.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

std::optional<std::map<std::string, std::string>> serviceSelector(const json& service) {
  const json& selector = jsonField(jsonField(service, "spec"), "selector");
  if (!selector.is_object() || selector.empty()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : selector.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

bool selectorMatches(const std::map<std::string, std::string>& selector, const json& pod) {
  return std::ranges::all_of(
      selector, [&](const auto& kv) { return kubeapi::labelOf(pod, kv.first) == kv.second; });
}

bool isHeadless(const json& service) {
  return jsonString(jsonField(service, "spec"), "clusterIP") == "None";
}

std::vector<kubeapi::ObjectPtr> selectedPods(const kubeapi::ObjectCache& pods,
                                             const json& service) {
  std::vector<kubeapi::ObjectPtr> out;
  auto selector = serviceSelector(service);
  if (!selector) return out;
  for (auto& pod : pods.inNamespace(kubeapi::namespaceOf(service)))
    if (selectorMatches(*selector, *pod)) out.push_back(std::move(pod));
  return out;
}

std::vector<std::string> servicesSelecting(const kubeapi::ObjectCache& services, const json& pod) {
  std::vector<std::string> out;
  for (const auto& service : services.inNamespace(kubeapi::namespaceOf(pod))) {
    auto selector = serviceSelector(*service);
    if (selector && selectorMatches(*selector, pod)) out.push_back(kubeapi::objectKey(*service));
  }
  return out;
}

std::set<std::string> servicesOfPodChange(const kubeapi::ObjectCache& services,
                                          const kubeapi::ObjectPtr& oldPod,
                                          const kubeapi::ObjectPtr& newPod) {
  auto keys = servicesSelecting(services, *newPod);
  std::set<std::string> out(keys.begin(), keys.end());
  if (oldPod && kubeapi::labelsJsonOf(*oldPod) != kubeapi::labelsJsonOf(*newPod))
    for (auto& key : servicesSelecting(services, *oldPod))
      out.insert(std::move(key));
  return out;
}

namespace {

const json* readyCondition(const json& pod) {
  for (const json& c : jsonArray(jsonField(pod, "status"), "conditions"))
    if (jsonString(c, "type") == "Ready") return &c;
  return nullptr;
}

}  // namespace

json podReference(const json& pod) {
  return {{"kind", "Pod"},
          {"namespace", kubeapi::namespaceOf(pod)},
          {"name", kubeapi::nameOf(pod)},
          {"uid", kubeapi::uidOf(pod)}};
}

bool podReady(const json& pod) {
  const json* c = readyCondition(pod);
  return c && jsonString(*c, "status") == "True";
}

bool shouldPodBeInEndpoints(const json& pod, bool includeTerminating) {
  const json& status = jsonField(pod, "status");
  std::string phase = jsonString(status, "phase");
  if (phase == "Failed" || phase == "Succeeded") return false;
  if (jsonString(status, "podIP").empty() && jsonArray(status, "podIPs").empty()) return false;
  return includeTerminating || !kubeapi::deletionTimestampOf(pod);
}

std::optional<int> findPort(const json& pod, const json& servicePort) {
  const json& target = jsonField(servicePort, "targetPort");
  if (target.is_number_integer()) return target.get<int>();
  if (!target.is_string() || target.get<std::string>().empty())
    return jsonField(servicePort, "port").is_number_integer()
               ? std::optional<int>(servicePort["port"].get<int>())
               : std::nullopt;
  std::string name = target.get<std::string>();
  std::string protocol = jsonString(servicePort, "protocol", "TCP");
  for (const json& c : jsonArray(jsonField(pod, "spec"), "containers"))
    for (const json& p : jsonArray(c, "ports"))
      if (jsonString(p, "name") == name && jsonString(p, "protocol", "TCP") == protocol &&
          jsonField(p, "containerPort").is_number_integer())
        return p["containerPort"].get<int>();
  return std::nullopt;
}

bool shouldSetHostname(const json& pod, const json& service) {
  const json& spec = jsonField(pod, "spec");
  return !jsonString(spec, "hostname").empty() &&
         jsonString(spec, "subdomain") == kubeapi::nameOf(service) &&
         kubeapi::namespaceOf(pod) == kubeapi::namespaceOf(service);
}

int ipFamilyOf(const std::string& ip) {
  auto addr = IpAddr::parse(ip);
  if (!addr) return 0;
  return addr->isV4() ? 4 : 6;
}

std::vector<std::string> podIpsOf(const json& pod, int family) {
  const json& status = jsonField(pod, "status");
  std::vector<std::string> ips;
  for (const json& p : jsonArray(status, "podIPs"))
    ips.push_back(jsonString(p, "ip"));
  if (ips.empty()) ips.push_back(jsonString(status, "podIP"));
  std::erase_if(ips, [&](const std::string& ip) { return ipFamilyOf(ip) != family; });
  return ips;
}

std::vector<int> serviceFamilies(const json& service) {
  const json& spec = jsonField(service, "spec");
  std::vector<int> out;
  for (const json& f : jsonArray(spec, "ipFamilies")) {
    int family = f == "IPv4" ? 4 : f == "IPv6" ? 6 : 0;
    if (family && std::ranges::find(out, family) == out.end()) out.push_back(family);
  }
  if (!out.empty()) return out;
  std::string clusterIp = jsonString(spec, "clusterIP");
  if (int family = ipFamilyOf(clusterIp)) return {family};
  return {4, 6};
}

namespace {

std::optional<kubeapi::Time> podTriggerTime(const json& pod) {
  const json* c = readyCondition(pod);
  if (!c) return std::nullopt;
  auto t = kubeapi::parseTime(jsonString(*c, "lastTransitionTime"));
  return t ? std::optional(*t) : std::nullopt;
}

void keepEarliest(std::optional<kubeapi::Time>& current, std::optional<kubeapi::Time> t) {
  if (t && (!current || *t < *current)) current = t;
}

}  // namespace

std::optional<kubeapi::Time> TriggerTimeTracker::compute(
    const json& service, const std::vector<kubeapi::ObjectPtr>& pods) {
  std::string key = kubeapi::objectKey(service);
  State previous;
  {
    std::lock_guard lock(mu_);
    previous = states_[key];
  }
  State next;
  std::optional<kubeapi::Time> earliest;
  for (const auto& pod : pods) {
    std::string name(kubeapi::nameOf(*pod));
    auto t = podTriggerTime(*pod);
    next.podTimes[name] = t;
    auto it = previous.podTimes.find(name);
    auto before = it == previous.podTimes.end() ? std::nullopt : it->second;
    if (t != before) keepEarliest(earliest, t);
  }
  next.serviceTime = kubeapi::creationTimestampOf(service);
  if (next.serviceTime && (!previous.serviceTime || *next.serviceTime > *previous.serviceTime))
    keepEarliest(earliest, next.serviceTime);
  std::lock_guard lock(mu_);
  states_[key] = std::move(next);
  return earliest;
}

void TriggerTimeTracker::forget(const std::string& serviceKey) {
  std::lock_guard lock(mu_);
  states_.erase(serviceKey);
}

}  // namespace berth::controlplane::controllers
