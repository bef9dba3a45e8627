#include "controlplane/controllers/endpoints_controller.h"

#include <algorithm>
#include <map>

#include "controlplane/controllers/resources.h"
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

constexpr size_t kMaxCapacity = 1000;  // addresses in one Endpoints object
constexpr const char* kOverCapacityAnnotation = "endpoints.kubernetes.io/over-capacity";
// Leader election records kept in Endpoints have no Service and must stay.
constexpr const char* kLeaderAnnotation = "control-plane.alpha.kubernetes.io/leader";

// podToEndpointAddressForService: the pod's IP of the Service's primary family.
std::optional<json> addressOf(const json& pod, const json& service) {
  int family = serviceFamilies(service).front();
  const json& spec = jsonField(service, "spec");
  if (jsonArray(spec, "ipFamilies").empty() && ipFamilyOf(jsonString(spec, "clusterIP")) == 0)
    family = ipFamilyOf(jsonString(jsonField(pod, "status"), "podIP")) == 6 ? 6 : 4;
  auto ips = podIpsOf(pod, family);
  if (ips.empty()) return std::nullopt;
  json address = {{"ip", ips.front()}, {"targetRef", podReference(pod)}};
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

// Labels the Endpoints should carry: the Service's, with the headless label as the Service is.
kubeapi::LabelMap endpointsLabels(const json& service) {
  kubeapi::LabelMap labels = kubeapi::labelsOf(service);
  labels.erase(kHeadlessLabel);
  if (isHeadless(service)) labels[kHeadlessLabel] = "";
  return labels;
}

}  // namespace

json endpointSubsets(const json& service, const std::vector<ObjectPtr>& pods) {
  bool publishNotReady = kubeapi::jsonBool(jsonField(service, "spec"), "publishNotReadyAddresses");
  // Each pod address with the ports it serves (RepackSubsets: one subset per set of ports).
  struct Address {
    json address;
    bool ready = false;
    json ports = json::array();
  };
  std::map<std::string, Address> addresses;  // by IP and pod uid
  const json& servicePorts = jsonArray(jsonField(service, "spec"), "ports");
  for (const auto& pod : pods) {
    if (!shouldPodBeInEndpoints(*pod, publishNotReady)) continue;
    auto address = addressOf(*pod, service);
    if (!address) continue;
    json ports = json::array();
    for (const json& sp : servicePorts)
      if (auto port = findPort(*pod, sp)) ports.push_back(endpointPort(sp, *port));
    // A headless Service without ports still lists its pods.
    if (ports.empty() && !(servicePorts.empty() && isHeadless(service))) continue;
    std::string key = (*address)["ip"].get<std::string>() + "/" + std::string(kubeapi::uidOf(*pod));
    addresses[key] = {std::move(*address), publishNotReady || podReady(*pod), std::move(ports)};
  }
  std::map<std::string, json> byPorts;
  for (auto& [key, a] : addresses) {
    std::sort(a.ports.begin(), a.ports.end(),
              [](const json& x, const json& y) { return x.dump() < y.dump(); });
    json& subset = byPorts[a.ports.dump()];
    if (!a.ports.empty()) subset["ports"] = a.ports;
    subset[a.ready ? "addresses" : "notReadyAddresses"].push_back(std::move(a.address));
  }
  json subsets = json::array();
  for (auto& [key, subset] : byPorts)
    subsets.push_back(std::move(subset));
  return subsets;  // addresses are in (ip, uid) order: the map's
}

bool truncateEndpoints(json& subsets) {
  size_t ready = 0;
  size_t notReady = 0;
  for (const json& s : subsets) {
    ready += jsonArray(s, "addresses").size();
    notReady += jsonArray(s, "notReadyAddresses").size();
  }
  if (ready + notReady <= kMaxCapacity) return false;
  bool truncateReady = ready > kMaxCapacity;
  size_t max = truncateReady ? kMaxCapacity : kMaxCapacity - ready;
  size_t total = truncateReady ? ready : notReady;
  size_t room = max;
  const char* field = truncateReady ? "addresses" : "notReadyAddresses";
  for (json& s : subsets) {
    size_t in = jsonArray(s, field).size();
    size_t share = std::min(room, (in * max + total - 1) / total);  // rounded up
    if (s.contains(field) && s[field].size() > share)
      s[field].erase(s[field].begin() + static_cast<std::ptrdiff_t>(share), s[field].end());
    if (truncateReady) s.erase("notReadyAddresses");
    room -= jsonArray(s, field).size();
  }
  return true;
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
  auto onEndpoints = [this](const ObjectPtr& e) {
    if (!kubeapi::annotationOf(*e, kLeaderAnnotation)) worker_.addObject(e);
  };
  endpoints_.addEventHandler({
      .onAdd = onEndpoints,
      .onUpdate = [onEndpoints](const ObjectPtr&, const ObjectPtr& e) { onEndpoints(e); },
      .onDelete = onEndpoints,
  });
}

void EndpointsController::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void EndpointsController::onPod(const ObjectPtr& oldPod, const ObjectPtr& newPod) {
  for (const auto& key : servicesOfPodChange(services_.cache(), oldPod, newPod))
    worker_.add(key);
}

Status EndpointsController::sync(const std::string& key) {
  auto [ns, name] = QueueWorker::splitKey(key);
  auto client = client_.inNamespace(ns);
  ObjectPtr service = services_.cache().get(key);
  ObjectPtr current = endpoints_.cache().get(key);
  if (!service) {
    triggerTimes_.forget(key);
    written_.forget(key);
    if (!current) return {};
    auto removed = client.remove(name);
    if (!removed && !removed.error().isNotFound())
      return std::unexpected(removed.error().toError().context("service " + key));
    return {};
  }
  if (!serviceSelector(*service) ||
      jsonString(jsonField(*service, "spec"), "type") == "ExternalName")
    return {};

  if (!written_.caughtUp(key, endpoints_.cache())) {
    worker_.addAfter(key, WriteTracker::kRetryAfter);
    return {};
  }
  auto pods = selectedPods(pods_.cache(), *service);
  json subsets = endpointSubsets(*service, pods);
  kubeapi::LabelMap labels = endpointsLabels(*service);
  auto triggerTime = triggerTimes_.compute(*service, pods);
  bool overCapacity = truncateEndpoints(subsets);
  if (current && jsonArray(*current, "subsets") == subsets &&
      kubeapi::labelsOf(*current) == labels &&
      overCapacity == kubeapi::annotationOf(*current, kOverCapacityAnnotation).has_value())
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
  if (overCapacity)
    kubeapi::setAnnotation(endpoints, kOverCapacityAnnotation, "truncated");
  else
    kubeapi::removeAnnotation(endpoints, kOverCapacityAnnotation);
  auto written = current ? client.update(endpoints) : client.create(endpoints);
  if (!written)
    return std::unexpected(written.error().toError().context(
        fmt::format("{} endpoints {}", current ? "update" : "create", key)));
  written_.remember(key, *written, false);
  return {};
}

}  // namespace berth::controlplane::controllers
