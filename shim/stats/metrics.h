#pragma once
// ListMetricDescriptors / ListPodSandboxMetrics: the stats as cAdvisor-named metrics (the names,
// types and label keys the kubelet's /metrics/cadvisor serves, as containerd 2's CRI plugin and
// CRI-O send them). A subset: what berth collects.

#include <cstdint>
#include <string>
#include <vector>

#include "shim/stats/usage.h"

namespace berth::cri::stats {

// CRI MetricType numbering.
enum class MetricType { kCounter = 0, kGauge = 1 };

struct MetricDescriptor {
  std::string name;
  std::string help;
  std::vector<std::string> labelKeys;
};

struct Metric {
  std::string name;
  int64_t timestamp = 0;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> labelValues;  // in the order of the descriptor's labelKeys
  uint64_t value = 0;
};

// The base label values: pod and namespace (the PodSandboxMetadata), container name, id (the
// container's, or the sandbox's for pod-level metrics) and image; pod-level metrics leave
// container and image empty.
struct MetricLabels {
  std::string pod;
  std::string podNamespace;
  std::string container;
  std::string id;
  std::string image;
};

const std::vector<MetricDescriptor>& metricDescriptors();

// CPU (seconds, truncated as containerd does), memory, swap, writable layer and processes.
std::vector<Metric> containerMetrics(const ContainerStats& stats, const MetricLabels& labels,
                                     int64_t timestamp);
// The pod's network counters, one set per interface.
std::vector<Metric> podMetrics(const PodSandboxStats& stats, const MetricLabels& labels,
                               int64_t timestamp);

}  // namespace berth::cri::stats
