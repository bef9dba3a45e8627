#include "shim/stats/metrics.h"

#include <cstdlib>

namespace berth::cri::stats {

namespace {

enum class Labels { kBase, kInterface, kDevice };

struct Definition {
  const char* name;
  const char* help;
  MetricType type;
  Labels labels;
};

constexpr Definition kDefinitions[] = {
    {"container_cpu_usage_seconds_total", "Cumulative CPU time consumed, in seconds.",
     MetricType::kCounter, Labels::kBase},
    {"container_cpu_user_seconds_total", "Cumulative user-mode CPU time, in seconds.",
     MetricType::kCounter, Labels::kBase},
    {"container_cpu_system_seconds_total", "Cumulative kernel-mode CPU time, in seconds.",
     MetricType::kCounter, Labels::kBase},
    {"container_memory_usage_bytes", "Memory charged to the container, page cache included.",
     MetricType::kGauge, Labels::kBase},
    {"container_memory_working_set_bytes", "Memory usage minus inactive file pages.",
     MetricType::kGauge, Labels::kBase},
    {"container_memory_rss", "Anonymous memory (RSS), in bytes.", MetricType::kGauge,
     Labels::kBase},
    {"container_memory_swap", "Swap used, in bytes.", MetricType::kGauge, Labels::kBase},
    {"container_fs_usage_bytes", "Bytes the writable layer uses on its filesystem.",
     MetricType::kGauge, Labels::kDevice},
    {"container_processes", "Processes in the container's cgroup.", MetricType::kGauge,
     Labels::kBase},
    {"container_network_receive_bytes_total", "Bytes received.", MetricType::kCounter,
     Labels::kInterface},
    {"container_network_receive_packets_total", "Packets received.", MetricType::kCounter,
     Labels::kInterface},
    {"container_network_receive_packets_dropped_total", "Received packets dropped.",
     MetricType::kCounter, Labels::kInterface},
    {"container_network_receive_errors_total", "Receive errors.", MetricType::kCounter,
     Labels::kInterface},
    {"container_network_transmit_bytes_total", "Bytes transmitted.", MetricType::kCounter,
     Labels::kInterface},
    {"container_network_transmit_packets_total", "Packets transmitted.", MetricType::kCounter,
     Labels::kInterface},
    {"container_network_transmit_packets_dropped_total", "Transmitted packets dropped.",
     MetricType::kCounter, Labels::kInterface},
    {"container_network_transmit_errors_total", "Transmit errors.", MetricType::kCounter,
     Labels::kInterface},
};

const Definition& definition(std::string_view name) {
  for (const auto& d : kDefinitions)
    if (d.name == name) return d;
  std::abort();  // a name missing from the table is a programming error
}

class Builder {
 public:
  Builder(const MetricLabels& labels, int64_t timestamp)
      : base_{labels.pod, labels.podNamespace, labels.container, labels.id, labels.image},
        timestamp_(timestamp) {}

  void add(std::string_view name, uint64_t value, const std::string& extraLabel = {}) {
    const Definition& d = definition(name);
    Metric m{d.name, timestamp_, d.type, base_, value};
    if (d.labels != Labels::kBase) m.labelValues.push_back(extraLabel);
    out_.push_back(std::move(m));
  }
  std::vector<Metric> take() { return std::move(out_); }

 private:
  std::vector<std::string> base_;
  int64_t timestamp_;
  std::vector<Metric> out_;
};

constexpr uint64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

const std::vector<MetricDescriptor>& metricDescriptors() {
  static const std::vector<MetricDescriptor> descriptors = [] {
    std::vector<MetricDescriptor> out;
    for (const auto& d : kDefinitions) {
      MetricDescriptor md{d.name, d.help, {"pod", "namespace", "container", "id", "image"}};
      if (d.labels == Labels::kInterface) md.labelKeys.emplace_back("interface");
      if (d.labels == Labels::kDevice) md.labelKeys.emplace_back("device");
      out.push_back(std::move(md));
    }
    return out;
  }();
  return descriptors;
}

std::vector<Metric> containerMetrics(const ContainerStats& stats, const MetricLabels& labels,
                                     int64_t timestamp) {
  Builder b(labels, timestamp);
  if (stats.cpu) {
    b.add("container_cpu_usage_seconds_total", stats.cpu->usageCoreNanoSeconds / kNanosPerSecond);
    b.add("container_cpu_user_seconds_total", stats.cpu->userNanoSeconds / kNanosPerSecond);
    b.add("container_cpu_system_seconds_total", stats.cpu->systemNanoSeconds / kNanosPerSecond);
  }
  if (stats.memory) {
    b.add("container_memory_usage_bytes", stats.memory->usageBytes);
    b.add("container_memory_working_set_bytes", stats.memory->workingSetBytes);
    b.add("container_memory_rss", stats.memory->rssBytes);
  }
  if (stats.swap) b.add("container_memory_swap", stats.swap->swapUsageBytes);
  b.add("container_fs_usage_bytes", stats.writableLayer.usedBytes, stats.writableLayer.mountpoint);
  b.add("container_processes", stats.processCount);
  return b.take();
}

std::vector<Metric> podMetrics(const PodSandboxStats& stats, const MetricLabels& labels,
                               int64_t timestamp) {
  Builder b(labels, timestamp);
  if (!stats.network) return b.take();
  for (const auto& i : stats.network->interfaces) {
    b.add("container_network_receive_bytes_total", i.rxBytes, i.name);
    b.add("container_network_receive_packets_total", i.rxPackets, i.name);
    b.add("container_network_receive_packets_dropped_total", i.rxDropped, i.name);
    b.add("container_network_receive_errors_total", i.rxErrors, i.name);
    b.add("container_network_transmit_bytes_total", i.txBytes, i.name);
    b.add("container_network_transmit_packets_total", i.txPackets, i.name);
    b.add("container_network_transmit_packets_dropped_total", i.txDropped, i.name);
    b.add("container_network_transmit_errors_total", i.txErrors, i.name);
  }
  return b.take();
}

}  // namespace berth::cri::stats
