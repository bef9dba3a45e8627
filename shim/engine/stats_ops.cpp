// Engine: the stats and metrics RPCs, from shim/stats' plain structs into the CRI messages.
#include "shim/engine/engine.h"
#include "shim/stats/metrics.h"

namespace berth::cri {

namespace {

bool hasPrefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

void toProto(const stats::PsiStats& p, v1::PsiStats* out) {
  auto data = [](const stats::PsiData& d, v1::PsiData* o) {
    o->set_total(d.totalNanoSeconds);
    o->set_avg10(d.avg10);
    o->set_avg60(d.avg60);
    o->set_avg300(d.avg300);
  };
  if (p.full) data(*p.full, out->mutable_full());
  if (p.some) data(*p.some, out->mutable_some());
}

void toProto(const stats::CpuUsage& c, v1::CpuUsage* out) {
  out->set_timestamp(c.timestamp);
  out->mutable_usage_core_nano_seconds()->set_value(c.usageCoreNanoSeconds);
  out->mutable_usage_nano_cores()->set_value(c.usageNanoCores);
  if (c.psi) toProto(*c.psi, out->mutable_psi());
}

void toProto(const stats::IoUsage& io, v1::IoUsage* out) {
  out->set_timestamp(io.timestamp);
  if (io.psi) toProto(*io.psi, out->mutable_psi());
}

void toProto(const stats::MemoryUsage& m, v1::MemoryUsage* out) {
  out->set_timestamp(m.timestamp);
  out->mutable_working_set_bytes()->set_value(m.workingSetBytes);
  out->mutable_available_bytes()->set_value(m.availableBytes);
  out->mutable_usage_bytes()->set_value(m.usageBytes);
  out->mutable_rss_bytes()->set_value(m.rssBytes);
  out->mutable_page_faults()->set_value(m.pageFaults);
  out->mutable_major_page_faults()->set_value(m.majorPageFaults);
  if (m.psi) toProto(*m.psi, out->mutable_psi());
}

void toProto(const stats::NetworkInterfaceUsage& n, v1::NetworkInterfaceUsage* out) {
  out->set_name(n.name);
  out->mutable_rx_bytes()->set_value(n.rxBytes);
  out->mutable_rx_errors()->set_value(n.rxErrors);
  out->mutable_tx_bytes()->set_value(n.txBytes);
  out->mutable_tx_errors()->set_value(n.txErrors);
}

void toProto(const stats::ContainerStats& s, v1::ContainerStats* out) {
  if (s.cpu) toProto(*s.cpu, out->mutable_cpu());
  if (s.memory) toProto(*s.memory, out->mutable_memory());
  if (s.io) toProto(*s.io, out->mutable_io());
  if (s.swap) {
    out->mutable_swap()->set_timestamp(s.swap->timestamp);
    out->mutable_swap()->mutable_swap_available_bytes()->set_value(s.swap->swapAvailableBytes);
    out->mutable_swap()->mutable_swap_usage_bytes()->set_value(s.swap->swapUsageBytes);
  }
  auto* fs = out->mutable_writable_layer();
  fs->set_timestamp(s.writableLayer.timestamp);
  fs->mutable_fs_id()->set_mountpoint(s.writableLayer.mountpoint);
  fs->mutable_used_bytes()->set_value(s.writableLayer.usedBytes);
  fs->mutable_inodes_used()->set_value(s.writableLayer.inodesUsed);
}

}  // namespace

stats::ContainerStatsInput Engine::statsInput(const ContainerRecord& rec) const {
  return {rec.id, rec.cgroupsPath, (config_.imageRoot / "containers" / rec.id / "upper").string(),
          config_.imageRoot.string()};
}

void Engine::fillContainerAttributes(const ContainerRecord& rec,
                                     v1::ContainerAttributes* out) const {
  out->set_id(rec.id);
  *out->mutable_metadata() = rec.config.metadata();
  *out->mutable_labels() = rec.config.labels();
  *out->mutable_annotations() = rec.config.annotations();
}

Status Engine::containerStats(const std::string& id, v1::ContainerStats* out) {
  auto c = BERTH_TRY(findContainer(id));
  ContainerRecord rec;
  {
    std::lock_guard lock(mu_);
    rec = c->rec;
  }
  auto s = BERTH_TRY_CTX(stats_->containerStats(statsInput(rec)),
                         fmt::format("stats of container {}", rec.id));
  fillContainerAttributes(rec, out->mutable_attributes());
  toProto(s, out);
  return {};
}

void Engine::listContainerStats(const v1::ContainerStatsFilter* filter,
                                v1::ListContainerStatsResponse* out) {
  std::vector<ContainerRecord> records;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : containers_) {
      const ContainerRecord& rec = c->rec;
      if (rec.phase == ContainerPhase::kCreating) continue;
      if (filter &&
          (!hasPrefix(id, filter->id()) || !hasPrefix(rec.podId, filter->pod_sandbox_id()) ||
           !labelsMatch(rec.config.labels(), filter->label_selector()))) {
        continue;
      }
      records.push_back(rec);
    }
  }
  for (const auto& rec : records) {
    // A container that went away meanwhile is left out, as containerd does.
    auto s = stats_->containerStats(statsInput(rec));
    if (!s) continue;
    auto* item = out->add_stats();
    fillContainerAttributes(rec, item->mutable_attributes());
    toProto(*s, item);
  }
}

Result<stats::PodSandboxStats> Engine::collectPodStats(const PodRecord& pod) {
  stats::PodStatsInput in;
  in.id = pod.id;
  in.cgroupParent = pod.config.linux().cgroup_parent();
  in.netnsPath = pod.netns;
  for (const auto& c : containersOf(pod.id)) {
    std::lock_guard lock(mu_);
    if (stateOf(*c) == v1::CONTAINER_RUNNING) in.containers.push_back(statsInput(c->rec));
  }
  return stats_->podStats(in);
}

void Engine::fillPodStats(const PodRecord& pod, const stats::PodSandboxStats& s,
                          v1::PodSandboxStats* out) {
  auto* attrs = out->mutable_attributes();
  attrs->set_id(pod.id);
  *attrs->mutable_metadata() = pod.config.metadata();
  *attrs->mutable_labels() = pod.config.labels();
  *attrs->mutable_annotations() = pod.config.annotations();
  auto* linux = out->mutable_linux();
  if (s.cpu) toProto(*s.cpu, linux->mutable_cpu());
  if (s.memory) toProto(*s.memory, linux->mutable_memory());
  if (s.io) toProto(*s.io, linux->mutable_io());
  if (s.network) {
    auto* net = linux->mutable_network();
    net->set_timestamp(s.network->timestamp);
    if (s.network->defaultInterface) {
      toProto(*s.network->defaultInterface, net->mutable_default_interface());
    }
    for (const auto& i : s.network->interfaces)
      toProto(i, net->add_interfaces());
  }
  linux->mutable_process()->set_timestamp(s.process.timestamp);
  linux->mutable_process()->mutable_process_count()->set_value(s.process.processCount);
  for (const auto& cs : s.containers) {
    auto c = findContainer(cs.id);
    if (!c) continue;
    auto* item = linux->add_containers();
    {
      std::lock_guard lock(mu_);
      fillContainerAttributes((*c)->rec, item->mutable_attributes());
    }
    toProto(cs, item);
  }
}

Status Engine::podSandboxStats(const std::string& id, v1::PodSandboxStats* out) {
  auto pod = BERTH_TRY(findPod(id));
  PodRecord rec;
  {
    std::lock_guard lock(mu_);
    rec = pod->rec;
  }
  if (rec.phase != Phase::kReady) {
    return fail(Code::kFailedPrecondition, "pod sandbox {} is not ready", rec.id);
  }
  auto s = BERTH_TRY_CTX(collectPodStats(rec), fmt::format("stats of pod sandbox {}", rec.id));
  fillPodStats(rec, s, out);
  return {};
}

void Engine::listPodSandboxStats(const v1::PodSandboxStatsFilter* filter,
                                 v1::ListPodSandboxStatsResponse* out) {
  std::vector<PodRecord> pods;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, p] : pods_) {
      if (p->rec.phase != Phase::kReady) continue;
      if (filter && (!hasPrefix(id, filter->id()) ||
                     !labelsMatch(p->rec.config.labels(), filter->label_selector()))) {
        continue;
      }
      pods.push_back(p->rec);
    }
  }
  for (const auto& rec : pods) {
    auto s = collectPodStats(rec);
    if (!s) continue;  // gone meanwhile (containerd skips NotFound pods too)
    fillPodStats(rec, *s, out->add_stats());
  }
}

void Engine::listMetricDescriptors(v1::ListMetricDescriptorsResponse* out) const {
  for (const auto& d : stats::metricDescriptors()) {
    auto* m = out->add_descriptors();
    m->set_name(d.name);
    m->set_help(d.help);
    for (const auto& k : d.labelKeys)
      m->add_label_keys(k);
  }
}

void Engine::listPodSandboxMetrics(v1::ListPodSandboxMetricsResponse* out) {
  std::vector<PodRecord> pods;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, p] : pods_) {
      if (p->rec.phase == Phase::kReady) pods.push_back(p->rec);
    }
  }
  auto copy = [](const std::vector<stats::Metric>& metrics, auto* into) {
    for (const auto& m : metrics) {
      auto* pm = into->add_metrics();
      pm->set_name(m.name);
      pm->set_timestamp(m.timestamp);
      pm->set_metric_type(m.type == stats::MetricType::kCounter ? v1::COUNTER : v1::GAUGE);
      for (const auto& v : m.labelValues)
        pm->add_label_values(v);
      pm->mutable_value()->set_value(m.value);
    }
  };
  for (const auto& pod : pods) {
    auto s = collectPodStats(pod);
    if (!s) continue;
    int64_t now = nowNs();
    auto* pm = out->add_pod_metrics();
    pm->set_pod_sandbox_id(pod.id);
    stats::MetricLabels labels{pod.config.metadata().name(), pod.config.metadata().namespace_(), "",
                               pod.id, ""};
    copy(stats::podMetrics(*s, labels, now), pm);
    for (const auto& cs : s->containers) {
      auto c = findContainer(cs.id);
      if (!c) continue;
      stats::MetricLabels cl = labels;
      {
        std::lock_guard lock(mu_);
        cl.container = (*c)->rec.config.metadata().name();
        cl.image = (*c)->rec.imageName;
      }
      cl.id = cs.id;
      auto* cm = pm->add_container_metrics();
      cm->set_container_id(cs.id);
      copy(stats::containerMetrics(cs, cl, now), cm);
    }
  }
}

}  // namespace berth::cri
