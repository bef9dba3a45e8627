#include "shim/stats/metrics.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace berth::cri::stats {
namespace {

const MetricDescriptor* find(const std::string& name) {
  for (const auto& d : metricDescriptors())
    if (d.name == name) return &d;
  return nullptr;
}

TEST(MetricDescriptors, CadvisorNamesAndLabelKeys) {
  std::set<std::string> names;
  for (const auto& d : metricDescriptors()) {
    EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
    EXPECT_FALSE(d.help.empty()) << d.name;
    ASSERT_GE(d.labelKeys.size(), 5u) << d.name;
    EXPECT_EQ(d.labelKeys[0], "pod");
    EXPECT_EQ(d.labelKeys[1], "namespace");
    EXPECT_EQ(d.labelKeys[2], "container");
    EXPECT_EQ(d.labelKeys[3], "id");
    EXPECT_EQ(d.labelKeys[4], "image");
  }
  ASSERT_NE(find("container_network_receive_bytes_total"), nullptr);
  EXPECT_EQ(find("container_network_receive_bytes_total")->labelKeys.back(), "interface");
  ASSERT_NE(find("container_fs_usage_bytes"), nullptr);
  EXPECT_EQ(find("container_fs_usage_bytes")->labelKeys.back(), "device");
  EXPECT_EQ(find("container_memory_working_set_bytes")->labelKeys.size(), 5u);
}

TEST(ContainerMetrics, ValuesTypesAndLabels) {
  ContainerStats s;
  s.id = "c1";
  s.cpu = CpuUsage{.usageCoreNanoSeconds = 2'900'000'000,
                   .userNanoSeconds = 2'000'000'000,
                   .systemNanoSeconds = 900'000'000};
  s.memory = MemoryUsage{.workingSetBytes = 10, .usageBytes = 20, .rssBytes = 5};
  s.writableLayer = FilesystemUsage{.mountpoint = "/var/lib/berth/images", .usedBytes = 4096};
  s.processCount = 3;
  MetricLabels labels{"web", "default", "nginx", "c1", "nginx:1.25"};
  auto metrics = containerMetrics(s, labels, 77);
  std::map<std::string, Metric> byName;
  for (const auto& m : metrics) {
    EXPECT_EQ(m.timestamp, 77);
    const MetricDescriptor* d = find(m.name);
    ASSERT_NE(d, nullptr) << m.name << " has no descriptor";
    ASSERT_EQ(m.labelValues.size(), d->labelKeys.size()) << m.name;
    EXPECT_EQ(m.labelValues[0], "web");
    EXPECT_EQ(m.labelValues[3], "c1");
    EXPECT_EQ(m.labelValues[4], "nginx:1.25");
    byName[m.name] = m;
  }
  // Whole seconds, as containerd truncates.
  EXPECT_EQ(byName.at("container_cpu_usage_seconds_total").value, 2u);
  EXPECT_EQ(byName.at("container_cpu_usage_seconds_total").type, MetricType::kCounter);
  EXPECT_EQ(byName.at("container_cpu_system_seconds_total").value, 0u);
  EXPECT_EQ(byName.at("container_memory_working_set_bytes").value, 10u);
  EXPECT_EQ(byName.at("container_memory_working_set_bytes").type, MetricType::kGauge);
  EXPECT_EQ(byName.at("container_memory_rss").value, 5u);
  EXPECT_EQ(byName.at("container_processes").value, 3u);
  EXPECT_EQ(byName.at("container_fs_usage_bytes").value, 4096u);
  EXPECT_EQ(byName.at("container_fs_usage_bytes").labelValues.back(), "/var/lib/berth/images");
  EXPECT_FALSE(byName.contains("container_memory_swap"));  // no swap numbers, no metric
}

TEST(PodMetrics, NetworkPerInterface) {
  PodSandboxStats s;
  s.network = NetworkUsage{};
  s.network->interfaces.push_back({.name = "eth0", .rxBytes = 100, .txErrors = 2});
  s.network->interfaces.push_back({.name = "net1", .txBytes = 7});
  auto metrics = podMetrics(s, MetricLabels{"web", "default", "", "pod1", ""}, 5);
  ASSERT_EQ(metrics.size(), 16u);
  for (const auto& m : metrics) {
    EXPECT_EQ(m.type, MetricType::kCounter);
    ASSERT_EQ(m.labelValues.size(), 6u);
    EXPECT_EQ(m.labelValues[3], "pod1");
    if (m.name == "container_network_receive_bytes_total" && m.labelValues[5] == "eth0") {
      EXPECT_EQ(m.value, 100u);
    }
    if (m.name == "container_network_transmit_bytes_total" && m.labelValues[5] == "net1") {
      EXPECT_EQ(m.value, 7u);
    }
  }
  EXPECT_TRUE(podMetrics(PodSandboxStats{}, MetricLabels{}, 5).empty());
}

}  // namespace
}  // namespace berth::cri::stats
