#include "controlplane/controllers/endpoint_slice_planner.h"

#include <algorithm>
#include <map>

#include "controlplane/controllers/endpoint_pods.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

std::string addressType(int family) {
  return family == 6 ? "IPv6" : "IPv4";
}

// setEndpointSliceLabels: the Service's labels, the headless label as the Service is, and ours.
json sliceLabels(const json& service) {
  json labels = json::object();
  for (const auto& [key, value] : kubeapi::labelsOf(service))
    if (key != kServiceNameLabel && key != kManagedByLabel && key != kHeadlessLabel)
      labels[key] = value;
  if (isHeadless(service)) labels[kHeadlessLabel] = "";
  labels[kServiceNameLabel] = kubeapi::nameOf(service);
  labels[kManagedByLabel] = kEndpointSliceControllerName;
  return labels;
}

json newSlice(const json& service, int family, const json& ports) {
  json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                {"kind", "EndpointSlice"},
                {"addressType", addressType(family)},
                {"endpoints", json::array()},
                {"ports", ports}};
  kubeapi::setGenerateName(slice, std::string(kubeapi::nameOf(service)) + "-");
  kubeapi::setNamespace(slice, kubeapi::namespaceOf(service));
  kubeapi::metadataOf(slice)["labels"] = sliceLabels(service);
  kubeapi::setOwnerReferences(slice, {{.apiVersion = "v1",
                                       .kind = "Service",
                                       .name = std::string(kubeapi::nameOf(service)),
                                       .uid = std::string(kubeapi::uidOf(service)),
                                       .controller = true,
                                       .blockOwnerDeletion = true}});
  return slice;
}

// getEndpointPorts: each Service port that resolves on the pod, in the Service's order.
json endpointPorts(const json& service, const json& pod) {
  json ports = json::array();
  for (const json& sp : jsonArray(jsonField(service, "spec"), "ports")) {
    auto port = findPort(pod, sp);
    if (!port) continue;
    json p = {{"name", jsonString(sp, "name")},
              {"port", *port},
              {"protocol", jsonString(sp, "protocol", "TCP")}};
    if (jsonField(sp, "appProtocol").is_string()) p["appProtocol"] = sp["appProtocol"];
    ports.push_back(std::move(p));
  }
  return ports;
}

// podToEndpoint.
json endpointOf(const json& pod, const json& service, std::vector<std::string> addresses,
                const std::optional<std::string>& zone) {
  bool serving = podReady(pod);
  bool terminating = kubeapi::deletionTimestampOf(pod).has_value();
  // Upstream: ready is never true for a terminating pod unless publishNotReadyAddresses.
  bool publishNotReady = kubeapi::jsonBool(jsonField(service, "spec"), "publishNotReadyAddresses");
  json ep = {{"addresses", addresses},
             {"conditions",
              {{"ready", publishNotReady || (serving && !terminating)},
               {"serving", serving},
               {"terminating", terminating}}},
             {"targetRef", podReference(pod)}};
  std::string node = jsonString(jsonField(pod, "spec"), "nodeName");
  if (!node.empty()) ep["nodeName"] = node;
  if (zone && !zone->empty()) ep["zone"] = *zone;
  if (shouldSetHostname(pod, service)) ep["hostname"] = jsonString(pod["spec"], "hostname");
  return ep;
}

std::string endpointId(const json& ep) {
  const json& addresses = jsonArray(ep, "addresses");
  return addresses.empty() ? "" : addresses[0].get<std::string>();
}

const json& portsOf(const json& slice) {
  return jsonArray(slice, "ports");
}

// The endpoints wanted for one address family and one set of resolved ports.
struct Group {
  json ports;
  std::map<std::string, json> pending;  // by first address, not yet placed in a slice
};

// A slice of the plan being built, with whether it must be written.
struct Draft {
  json slice;
  bool changed = false;
  bool created = false;
};

class FamilyPlanner {
 public:
  FamilyPlanner(const SlicePlanInput& in, int family, SlicePlan& plan)
      : in_(in), family_(family), plan_(plan), labels_(sliceLabels(in.service)) {}

  void run(const std::vector<kubeapi::ObjectPtr>& existing) {
    collectDesired();
    for (const auto& slice : existing)
      keepOrRemove(*slice);
    placePending();
    ensurePlaceholder(existing.size());
    std::ranges::move(removed_, std::back_inserter(plan_.remove));
    for (auto& [key, drafts] : drafts_)
      for (auto& d : drafts)
        if (d.created)
          plan_.create.push_back(std::move(d.slice));
        else if (d.changed)
          plan_.update.push_back(std::move(d.slice));
  }

 private:
  static std::string groupKey(const json& ports) { return ports.dump(); }

  void collectDesired() {
    for (const auto& pod : in_.pods) {
      if (!shouldPodBeInEndpoints(*pod, true)) continue;
      auto addresses = podIpsOf(*pod, family_);
      if (addresses.empty()) continue;
      std::optional<std::string> zone;
      std::string node = jsonString(jsonField(*pod, "spec"), "nodeName");
      if (!node.empty()) {
        zone = in_.nodeZone(node);
        bool publishNotReady =
            kubeapi::jsonBool(jsonField(in_.service, "spec"), "publishNotReadyAddresses");
        if (!zone && !publishNotReady) {
          plan_.skippedPods.push_back(std::string(kubeapi::nameOf(*pod)));
          continue;
        }
      }
      json ports = endpointPorts(in_.service, *pod);
      Group& g = groups_[groupKey(ports)];
      g.ports = ports;
      json ep = endpointOf(*pod, in_.service, std::move(addresses), zone);
      g.pending.emplace(endpointId(ep), std::move(ep));
    }
  }

  // An existing slice keeps the endpoints still wanted (replaced by their new form); one with
  // nothing left, of ports nobody has now, or not owned by this Service goes.
  void keepOrRemove(const json& slice) {
    auto owner = kubeapi::controllerOf(slice);
    auto group = groups_.find(groupKey(portsOf(slice)));
    if (!owner || owner->uid != kubeapi::uidOf(in_.service) || group == groups_.end()) {
      remove(slice);
      return;
    }
    Draft d{slice};
    json kept = json::array();
    for (const json& ep : jsonArray(slice, "endpoints")) {
      auto it = group->second.pending.find(endpointId(ep));
      if (it == group->second.pending.end()) {
        d.changed = true;
        continue;
      }
      if (it->second != ep) d.changed = true;
      kept.push_back(std::move(it->second));
      group->second.pending.erase(it);
    }
    if (kept.empty()) {
      remove(slice);
      return;
    }
    d.slice["endpoints"] = std::move(kept);
    if (kubeapi::labelsJsonOf(slice) != labels_) {
      kubeapi::metadataOf(d.slice)["labels"] = labels_;
      d.changed = true;
    }
    drafts_[group->first].push_back(std::move(d));
  }

  void remove(const json& slice) { removed_.push_back(slice); }

  // Endpoints not in any slice yet: into slices being written anyway, then slices with room,
  // then new slices.
  void placePending() {
    size_t max = std::max<size_t>(in_.maxEndpointsPerSlice, 1);
    for (auto& [key, group] : groups_) {
      auto& drafts = drafts_[key];
      std::ranges::stable_partition(drafts, [](const Draft& d) { return d.changed; });
      auto next = group.pending.begin();
      for (auto& d : drafts) {
        json& eps = d.slice["endpoints"];
        while (next != group.pending.end() && eps.size() < max) {
          eps.push_back(std::move(next++->second));
          d.changed = true;
        }
      }
      while (next != group.pending.end()) {
        Draft d{newSlice(in_.service, family_, group.ports), true, true};
        json& eps = d.slice["endpoints"];
        while (next != group.pending.end() && eps.size() < max)
          eps.push_back(std::move(next++->second));
        drafts.push_back(std::move(d));
      }
    }
  }

  // No slice of this family left: one placeholder (no endpoints, no ports), the existing one
  // kept when it is already that.
  void ensurePlaceholder(size_t existing) {
    bool anyDraft = std::ranges::any_of(drafts_, [](auto& kv) { return !kv.second.empty(); });
    if (anyDraft || existing != removed_.size()) return;
    json placeholder = newSlice(in_.service, family_, json::array());
    if (removed_.size() == 1 && isPlaceholder(removed_.front())) {
      json kept = std::move(removed_.front());
      removed_.clear();
      if (kubeapi::labelsJsonOf(kept) != labels_) {
        kubeapi::metadataOf(kept)["labels"] = labels_;
        plan_.update.push_back(std::move(kept));
      }
      return;
    }
    drafts_[""].push_back(Draft{std::move(placeholder), true, true});
  }

  bool isPlaceholder(const json& slice) const {
    return jsonArray(slice, "endpoints").empty() && portsOf(slice).empty();
  }

  const SlicePlanInput& in_;
  int family_;
  SlicePlan& plan_;
  json labels_;
  std::map<std::string, Group> groups_;
  std::map<std::string, std::vector<Draft>> drafts_;
  std::vector<json> removed_;
};

// reconciler.finalize: a slice to create takes the place of one to delete of the same address
// type owned by the Service (an update), so a placeholder becomes the first real slice and
// readers never see both.
void reuseDeletedSlices(const json& service, SlicePlan& plan) {
  for (auto fresh = plan.create.begin(); fresh != plan.create.end();) {
    auto old = std::ranges::find_if(plan.remove, [&](const json& slice) {
      auto owner = kubeapi::controllerOf(slice);
      return slice["addressType"] == (*fresh)["addressType"] && owner &&
             owner->uid == kubeapi::uidOf(service);
    });
    if (old == plan.remove.end()) {
      ++fresh;
      continue;
    }
    kubeapi::setName(*fresh, kubeapi::nameOf(*old));
    kubeapi::setResourceVersion(*fresh, kubeapi::resourceVersionOf(*old));
    plan.update.push_back(std::move(*fresh));
    fresh = plan.create.erase(fresh);
    plan.remove.erase(old);
  }
}

}  // namespace

SlicePlan planEndpointSlices(const SlicePlanInput& in) {
  SlicePlan plan;
  auto families = serviceFamilies(in.service);
  for (int family : families) {
    std::vector<kubeapi::ObjectPtr> ofFamily;
    for (const auto& s : in.existing)
      if (jsonString(*s, "addressType") == addressType(family)) ofFamily.push_back(s);
    FamilyPlanner(in, family, plan).run(ofFamily);
  }
  for (const auto& s : in.existing) {
    std::string type = jsonString(*s, "addressType");
    bool served = std::ranges::any_of(families, [&](int f) { return addressType(f) == type; });
    if (!served) plan.remove.push_back(*s);
  }
  reuseDeletedSlices(in.service, plan);
  return plan;
}

}  // namespace berth::controlplane::controllers
