// Engine: the pod sandbox RPCs (see engine.h).
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "shim/engine/engine.h"
#include "shim/engine/pod_network.h"
#include "shim/sandbox/pod_files.h"
#include "shim/sandbox/pod_namespaces.h"

namespace berth::cri {

namespace {

const v1::NamespaceOption& namespaceOptions(const v1::PodSandboxConfig& c) {
  return c.linux().security_context().namespace_options();
}

bool hostNetwork(const v1::PodSandboxConfig& c) {
  return namespaceOptions(c).network() == v1::NODE;
}

// containerd's makeSandboxName.
std::string podName(const v1::PodSandboxMetadata& m) {
  return fmt::format("{}_{}_{}_{}", m.name(), m.namespace_(), m.uid(), m.attempt());
}

}  // namespace

static shim::PodNamespaceOptions podNamespaceOptions(const CriConfig& config, const PodRecord& rec,
                                                     const std::filesystem::path& podInit) {
  const auto& ns = namespaceOptions(rec.config);
  shim::PodNamespaceOptions o;
  o.podId = rec.id;
  o.pinRoot = config.state / "ns";
  o.hostname = rec.config.hostname();
  o.hostNetwork = ns.network() == v1::NODE;
  o.hostIpc = ns.ipc() == v1::NODE;
  o.hostUts = o.hostNetwork;  // the kubelet gives host-network pods the node's UTS namespace
  o.sharedPid = ns.pid() == v1::POD;
  o.podInitPath = podInit;
  return o;
}

static PodNetworking networking(const CriConfig& config) {
  return PodNetworking(config.cni, config.root / "cni");
}

Result<std::string> Engine::runPodSandbox(const v1::PodSandboxConfig& config,
                                          const std::string& runtimeHandler) {
  if (!config.has_metadata() || config.metadata().name().empty()) {
    return fail(Code::kInvalidArgument, "config.metadata.name: required");
  }
  BERTH_TRY(runtimeFor(runtimeHandler));
  auto pod = std::make_shared<Pod>();
  PodRecord& rec = pod->rec;
  rec.id = newId();
  rec.name = podName(config.metadata());
  rec.config = config;
  rec.runtimeHandler = runtimeHandler;
  rec.createdAtNs = nowNs();
  BERTH_TRY(reserveName(rec.name, rec.id, "pod sandbox"));
  std::unique_lock op(pod->op);
  auto release = defer([&] { releaseName(rec.name); });
  BERTH_TRY_CTX(savePod(rec), "save pod record");
  auto rollback = defer([&] {
    dropRecordIfUndone("pod", rec.id, tearDownPod(rec), podRecordPath(rec.id).parent_path());
  });
  BERTH_TRY_CTX(setUpPod(rec), fmt::format("run pod sandbox {}", rec.name));
  rec.phase = Phase::kReady;
  BERTH_TRY_CTX(savePod(rec), "save pod record");
  rollback.cancel();
  release.cancel();
  {
    std::lock_guard lock(mu_);
    pods_[rec.id] = pod;
  }
  return rec.id;
}

Status Engine::setUpPod(PodRecord& rec) {
  const auto& config = rec.config;
  auto nsOptions = podNamespaceOptions(config_, rec, options_.podInitPath);
  if (nsOptions.hostname.empty()) nsOptions.hostname = options_.host.nodeHostname;
  auto ns = BERTH_TRY(shim::createPodNamespaces(nsOptions));
  rec.netns = ns.net ? ns.net->string() : "";
  rec.ipcns = ns.ipc ? ns.ipc->string() : "";
  rec.utsns = ns.uts ? ns.uts->string() : "";
  rec.pidInit = ns.pidInit;
  BERTH_TRY_CTX(savePod(rec), "save pod record");

  shim::DnsConfig dns;
  for (const auto& s : config.dns_config().servers())
    dns.servers.push_back(s);
  for (const auto& s : config.dns_config().searches())
    dns.searches.push_back(s);
  for (const auto& s : config.dns_config().options())
    dns.options.push_back(s);
  shim::PodFilesOptions files;
  files.dir = podStateDir(rec.id);
  files.hostname = nsOptions.hostname;
  files.hostNetwork = nsOptions.hostNetwork;
  files.hostIpc = nsOptions.hostIpc;
  files.dns = &dns;
  BERTH_TRY(makeDirs(files.dir, 0711));
  BERTH_TRY(shim::setUpPodFiles(files));

  if (!nsOptions.hostNetwork) {
    BERTH_TRY_CTX(bringUpLoopback(rec.netns), "loopback");
    rec.networkAttached = true;  // recorded first: a crash during ADD still runs DEL
    BERTH_TRY_CTX(savePod(rec), "save pod record");
    auto net = BERTH_TRY(networking(config_).attach(rec.id, rec.netns, config));
    if (!net.ips.empty()) rec.ip = net.ips.front();
    rec.additionalIps.assign(net.ips.begin() + (net.ips.empty() ? 0 : 1), net.ips.end());
    rec.cniResult = net.resultJson;
  }
  return {};
}

Status Engine::tearDownPodNetwork(PodRecord& rec) {
  if (!rec.networkAttached) return {};
  BERTH_TRY(networking(config_).detach(rec.id, rec.netns, rec.config));
  rec.networkAttached = false;
  return {};
}

Status Engine::tearDownPod(PodRecord& rec) {
  BERTH_TRY(tearDownPodNetwork(rec));
  BERTH_TRY(shim::removePodNamespaces(podNamespaceOptions(config_, rec, options_.podInitPath),
                                      rec.pidInit));
  rec.pidInit = -1;
  BERTH_TRY(shim::tearDownPodFiles(podStateDir(rec.id)));
  return removeAll(podStateDir(rec.id));
}

Status Engine::stopPodSandbox(const std::string& id) {
  auto pod = BERTH_TRY(findPod(id));
  std::lock_guard op(pod->op);
  for (const auto& c : containersOf(pod->rec.id)) {
    std::lock_guard cop(c->op);
    BERTH_TRY_CTX(stopLocked(*c, 0), fmt::format("stop container {}", c->rec.id));
  }
  PodRecord rec;
  {
    std::lock_guard lock(mu_);
    rec = pod->rec;
  }
  if (rec.phase == Phase::kStopped) return {};
  auto torn = tearDownPod(rec);
  rec.phase = torn ? Phase::kStopped : rec.phase;
  {
    std::lock_guard lock(mu_);
    pod->rec = rec;
  }
  BERTH_TRY_CTX(savePod(rec), "save pod record");
  if (!torn) return std::unexpected(torn.error().context(fmt::format("stop pod sandbox {}", id)));
  return {};
}

Status Engine::removePodSandbox(const std::string& id) {
  auto pod = findPod(id);
  if (!pod) {
    if (pod.error().code() == Code::kNotFound) return {};  // CRI: idempotent
    return std::unexpected(pod.error());
  }
  BERTH_TRY(stopPodSandbox((*pod)->rec.id));
  std::lock_guard op((*pod)->op);
  for (const auto& c : containersOf((*pod)->rec.id)) {
    BERTH_TRY(removeContainer(c->rec.id));
  }
  PodRecord rec;
  {
    std::lock_guard lock(mu_);
    rec = (*pod)->rec;
  }
  BERTH_TRY(tearDownPod(rec));  // already done by the stop; what is left is idempotent
  BERTH_TRY(removeAll(podRecordPath(rec.id).parent_path()));
  stats_->forget(rec.id);
  std::lock_guard lock(mu_);
  names_.erase(rec.name);
  pods_.erase(rec.id);
  return {};
}

Status Engine::updatePodSandboxResources(const std::string& id,
                                         const v1::LinuxContainerResources& resources) {
  auto pod = BERTH_TRY(findPod(id));
  BERTH_TRY(resourcesFromCri(resources, options_.host));  // the same checks as a container's
  std::lock_guard op(pod->op);
  PodRecord rec;
  {
    std::lock_guard lock(mu_);
    rec = pod->rec;
  }
  rec.resources = protoJson(resources);
  BERTH_TRY_CTX(savePod(rec), "save pod record");
  std::lock_guard lock(mu_);
  pod->rec = std::move(rec);
  return {};
}

void Engine::fillPodStatus(const PodRecord& rec, v1::PodSandboxStatus* out) const {
  out->set_id(rec.id);
  *out->mutable_metadata() = rec.config.metadata();
  out->set_state(rec.phase == Phase::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  out->set_created_at(rec.createdAtNs);
  if (rec.phase == Phase::kReady && !hostNetwork(rec.config)) {
    out->mutable_network()->set_ip(rec.ip);
    for (const auto& ip : rec.additionalIps)
      out->mutable_network()->add_additional_ips()->set_ip(ip);
  }
  *out->mutable_linux()->mutable_namespaces()->mutable_options() = namespaceOptions(rec.config);
  *out->mutable_labels() = rec.config.labels();
  *out->mutable_annotations() = rec.config.annotations();
  out->set_runtime_handler(rec.runtimeHandler);
}

Status Engine::podSandboxStatus(const std::string& id, bool verbose,
                                v1::PodSandboxStatusResponse* out) {
  auto pod = BERTH_TRY(findPod(id));
  std::lock_guard lock(mu_);
  const PodRecord& rec = pod->rec;
  fillPodStatus(rec, out->mutable_status());
  out->set_timestamp(nowNs());
  if (verbose) {
    nlohmann::json info = {{"pid", rec.pidInit},
                           {"netNamespace", rec.netns},
                           {"ipcNamespace", rec.ipcns},
                           {"utsNamespace", rec.utsns},
                           {"runtimeHandler", rec.runtimeHandler},
                           {"stateDir", podStateDir(rec.id).string()}};
    if (!rec.resources.empty()) {
      info["resources"] = nlohmann::json::parse(rec.resources, nullptr, false);
    }
    if (!rec.cniResult.empty()) {
      info["cniResult"] = nlohmann::json::parse(rec.cniResult, nullptr, false);
    }
    info["config"] = nlohmann::json::parse(protoJson(rec.config), nullptr, false);
    (*out->mutable_info())["info"] = info.dump();
  }
  return {};
}

void Engine::listPodSandbox(const v1::PodSandboxFilter* filter, v1::ListPodSandboxResponse* out) {
  std::lock_guard lock(mu_);
  for (const auto& [id, pod] : pods_) {
    const PodRecord& rec = pod->rec;
    if (filter) {
      if (!filter->id().empty() && id.compare(0, filter->id().size(), filter->id()) != 0) continue;
      auto state = rec.phase == Phase::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
      if (filter->has_state() && filter->state().state() != state) continue;
      if (!labelsMatch(rec.config.labels(), filter->label_selector())) continue;
    }
    auto* p = out->add_items();
    p->set_id(id);
    *p->mutable_metadata() = rec.config.metadata();
    p->set_state(rec.phase == Phase::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
    p->set_created_at(rec.createdAtNs);
    *p->mutable_labels() = rec.config.labels();
    *p->mutable_annotations() = rec.config.annotations();
    p->set_runtime_handler(rec.runtimeHandler);
  }
}

}  // namespace berth::cri
