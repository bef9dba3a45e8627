#include "controlplane/controllers/endpoints_controller.h"

#include <algorithm>
#include <map>

#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using kubeapi::ObjectPtr;
using nlohmann::json;

namespace {

const kubeapi::GroupVersionResource kServices{"", "v1", "services"};
const kubeapi::GroupVersionResource kPods{"", "v1", "pods"};
const kubeapi::GroupVersionResource kEndpoints{"", "v1", "endpoints"};

// podToEndpointAddressForService: the pod's IP of the Service's primary family.
std::optional<json> addressOf(const json& pod, const json& service) {
  int family = serviceFamilies(service).front();
  const json& spec = jsonField(service, "spec");
  if (jsonArray(spec, "ipFamilies").empty() && ipFamilyOf(jsonString(spec, "clusterIP")) == 0)
    family = ipFamilyOf(jsonString(jsonField(pod, "status"), "podIP")) == 6 ? 6 : 4;
  auto ips = podIpsOf(pod, family);
  if (ips.empty()) return std::nullopt;
  json address = {{"ip", ips.front()},
                  {"targetRef",
                   {{"kind", "Pod"},
                    {"namespace", kubeapi::namespaceOf(pod)},
                    {"name", kubeapi::nameOf(pod)},
                    {"uid", kubeapi::uidOf(pod)}}}};
  std::string node = jsonString(jsonField(pod, "spec"), "nodeName");
  if (!node.empty()) address["nodeName"] = node;
  if (shouldSetHostname(pod, service)) address["hostname"] = jsonString(pod["spec"], "hostname");
  return address;
}

json endpointPort(const json& servicePort, int port) {
  json p = {{"port", port}, {"protocol", jsonString(servicePort, "protocol", "TCP")}};
  if (std::string name = jsonString(servicePort, "name"); !name.empty()) p["name"] = name;
  if (jsonField(servicePort, "appProtocol").is_string())
    p["appProtocol"] = servicePort["appProtocol"];
  return p;
}

// Addresses by (ip, uid), as addrsByIPAndUID.
void sortAddresses(json& addresses) {
  std::sort(addresses.begin(), addresses.end(), [](const json& a, const json& b) {
    return std::pair(a["ip"].get<std::string>(), a["targetRef"].value("uid", "")) <
           std::pair(b["ip"].get<std::string>(), b["targetRef"].value("uid", ""));
  });
}

// Labels the Endpoints should carry: the Service's, with the headless label as the Service is.
kubeapi::LabelMap endpointsLabels(const json& service) {
  kubeapi::LabelMap labels = kubeapi::labelsOf(service);
  labels.erase(kHeadlessLabel);
  if (isHeadless(service)) labels[kHeadlessLabel] = "";
  return labels;
}

Error apiError(std::string_view what, const kubeapi::ApiError& e) {
  return Error(e.code(), fmt::format("{}: {}", what, e.message()));
}

}  // namespace

json endpointSubsets(const json& service, const std::vector<ObjectPtr>& pods) {
  bool publishNotReady = kubeapi::jsonBool(jsonField(service, "spec"), "publishNotReadyAddresses");
  // RepackSubsets: one subset per set of ports, ready and not-ready addresses kept apart.
  struct Subset {
    json ports;
    json addresses = json::array();
    json notReady = json::array();
  };
  std::map<std::string, Subset> byPorts;
  auto add = [&](const json& pod, const json& address, json ports) {
    Subset& s = byPorts[ports.dump()];
    s.ports = std::move(ports);
    (publishNotReady || podReady(pod) ? s.addresses : s.notReady).push_back(address);
  };
  const json& servicePorts = jsonArray(jsonField(service, "spec"), "ports");
  for (const auto& pod : pods) {
    if (!shouldPodBeInEndpoints(*pod, publishNotReady)) continue;
    auto address = addressOf(*pod, service);
    if (!address) continue;
    // A headless Service without ports still lists its pods.
    if (servicePorts.empty() && isHeadless(service)) add(*pod, *address, json::array());
    for (const json& sp : servicePorts)
      if (auto port = findPort(*pod, sp))
        add(*pod, *address, json::array({endpointPort(sp, *port)}));
  }
  // Addresses with the same ports in different subsets are merged (the repack).
  std::map<std::string, Subset> merged;
  std::map<std::string, json> portsOfAddresses;  // address key -> its ports
  for (auto& [key, s] : byPorts)
    for (auto* list : {&s.addresses, &s.notReady})
      for (const json& a : *list) {
        std::string addressKey = a.dump() + (list == &s.notReady ? "!" : "");
        json& ports = portsOfAddresses[addressKey];
        if (ports.is_null()) ports = json::array();
        for (const json& p : s.ports)
          ports.push_back(p);
      }
  for (auto& [addressKey, ports] : portsOfAddresses) {
    std::sort(ports.begin(), ports.end(),
              [](const json& a, const json& b) { return a.dump() < b.dump(); });
    Subset& s = merged[ports.dump()];
    s.ports = ports;
    bool notReady = addressKey.back() == '!';
    json address = json::parse(notReady ? addressKey.substr(0, addressKey.size() - 1) : addressKey);
    (notReady ? s.notReady : s.addresses).push_back(std::move(address));
  }
  json subsets = json::array();
  for (auto& [key, s] : merged) {
    json subset = json::object();
    sortAddresses(s.addresses);
    sortAddresses(s.notReady);
    if (!s.addresses.empty()) subset["addresses"] = std::move(s.addresses);
    if (!s.notReady.empty()) subset["notReadyAddresses"] = std::move(s.notReady);
    if (!s.ports.empty()) subset["ports"] = std::move(s.ports);
    subsets.push_back(std::move(subset));
  }
  return subsets;
}

EndpointsController::EndpointsController(ControllerContext& context)
    : context_(context),
      services_(context.informers.informer(kServices)),
      pods_(context.informers.informer(kPods)),
      endpoints_(context.informers.informer(kEndpoints)),
      client_(context.client, kEndpoints, true),
      worker_("endpoint", [this](const std::string& key) { return sync(key); }) {
  services_.addEventHandler({
      .onAdd = [this](const ObjectPtr& s) { worker_.addObject(s); },
      .onUpdate = [this](const ObjectPtr&, const ObjectPtr& s) { worker_.addObject(s); },
      .onDelete = [this](const ObjectPtr& s) { worker_.addObject(s); },
  });
  pods_.addEventHandler({
      .onAdd = [this](const ObjectPtr& p) { onPod(nullptr, p); },
      .onUpdate = [this](const ObjectPtr& o, const ObjectPtr& p) { onPod(o, p); },
      .onDelete = [this](const ObjectPtr& p) { onPod(nullptr, p); },
  });
  // checkLeftoverEndpoints: Endpoints whose Service went while nobody watched are deleted by
  // their sync; Endpoints edited by someone else are put back.
  endpoints_.addEventHandler({
      .onAdd = [this](const ObjectPtr& e) { worker_.addObject(e); },
      .onUpdate = [this](const ObjectPtr&, const ObjectPtr& e) { worker_.addObject(e); },
      .onDelete = [this](const ObjectPtr& e) { worker_.addObject(e); },
  });
}

void EndpointsController::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void EndpointsController::onPod(const ObjectPtr& oldPod, const ObjectPtr& newPod) {
  for (const auto& key : servicesSelecting(services_.cache(), *newPod))
    worker_.add(key);
  if (oldPod && kubeapi::labelsJsonOf(*oldPod) != kubeapi::labelsJsonOf(*newPod))
    for (const auto& key : servicesSelecting(services_.cache(), *oldPod))
      worker_.add(key);
}

Status EndpointsController::sync(const std::string& key) {
  auto [ns, name] = QueueWorker::splitKey(key);
  auto client = client_.inNamespace(ns);
  ObjectPtr service = services_.cache().get(key);
  ObjectPtr current = endpoints_.cache().get(key);
  if (!service) {
    triggerTimes_.forget(key);
    if (!current) return {};
    auto removed = client.remove(name);
    if (!removed && !removed.error().isNotFound())
      return std::unexpected(apiError("delete endpoints " + key, removed.error()));
    return {};
  }
  if (!serviceSelector(*service)) return {};

  auto pods = selectedPods(pods_.cache(), *service);
  json subsets = endpointSubsets(*service, pods);
  kubeapi::LabelMap labels = endpointsLabels(*service);
  auto triggerTime = triggerTimes_.compute(*service, pods);
  if (current && jsonArray(*current, "subsets") == subsets && kubeapi::labelsOf(*current) == labels)
    return {};

  json endpoints = current ? *current
                           : json{{"apiVersion", "v1"},
                                  {"kind", "Endpoints"},
                                  {"metadata", {{"name", name}, {"namespace", ns}}}};
  endpoints["subsets"] = subsets;
  kubeapi::metadataOf(endpoints)["labels"] = json(labels);
  if (triggerTime)
    kubeapi::setAnnotation(endpoints, kTriggerTimeAnnotation, kubeapi::formatTime(*triggerTime));
  else
    kubeapi::removeAnnotation(endpoints, kTriggerTimeAnnotation);
  auto written = current ? client.update(endpoints) : client.create(endpoints);
  if (!written)
    return std::unexpected(apiError(
        fmt::format("{} endpoints {}", current ? "update" : "create", key), written.error()));
  return {};
}

}  // namespace berth::controlplane::controllers
