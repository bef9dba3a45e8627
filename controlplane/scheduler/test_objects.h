#pragma once
// Small builders of Node and Pod objects for the scheduler's table tests.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/scheduler/node_info.h"
#include "kubeapi/object_cache.h"

namespace berth::controlplane::scheduler::testing {

inline nlohmann::json node(const std::string& name, const std::string& cpu = "4",
                           const std::string& memory = "8Gi",
                           nlohmann::json labels = nlohmann::json::object()) {
  labels["kubernetes.io/hostname"] = name;
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", nlohmann::json::object()},
          {"status", {{"allocatable", {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}}}}}};
}

inline nlohmann::json pod(const std::string& name, const std::string& cpu = "",
                          const std::string& memory = "") {
  nlohmann::json c = {{"name", "app"}, {"image", "busybox"}};
  if (!cpu.empty()) c["resources"]["requests"]["cpu"] = cpu;
  if (!memory.empty()) c["resources"]["requests"]["memory"] = memory;
  return {{"metadata",
           {{"name", name}, {"namespace", "default"}, {"labels", nlohmann::json::object()}}},
          {"spec", {{"containers", {c}}}}};
}

inline nlohmann::json on(nlohmann::json p, const std::string& nodeName) {
  p["spec"]["nodeName"] = nodeName;
  return p;
}

inline kubeapi::ObjectPtr ptr(nlohmann::json j) {
  return std::make_shared<const nlohmann::json>(std::move(j));
}

// The snapshot a scheduling cycle sees of these nodes and pods.
inline Snapshot snapshotOf(std::vector<nlohmann::json> nodes,
                           std::vector<nlohmann::json> pods = {}) {
  std::vector<kubeapi::ObjectPtr> n, p;
  for (auto& x : nodes)
    n.push_back(ptr(std::move(x)));
  for (auto& x : pods)
    p.push_back(ptr(std::move(x)));
  return Snapshot::build(std::move(n), p);
}

}  // namespace berth::controlplane::scheduler::testing
