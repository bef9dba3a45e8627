#include "kubelet/kubelet.h"

#include <condition_variable>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "common/scope_guard.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/lister_watcher.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubelet/api_pod_status.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/pod_files.h"
#include "kubelet/prober/lifecycle.h"
#include "kubelet/static_pod.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;
using SteadyClock = std::chrono::steady_clock;

const kubeapi::GroupVersionResource kPods{"", "v1", "pods"};

// The PLEG is unhealthy when no relist succeeded for this long (upstream's relistThreshold).
constexpr auto kRelistThreshold = std::chrono::minutes(3);

std::int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

bool anyRunning(const RuntimePodStatus& runtime) {
  for (const auto& c : runtime.containers) {
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kCreated) return true;
  }
  for (const auto& s : runtime.sandboxes)
    if (s.ready) return true;
  return false;
}

// ExecSync for probes and exec hooks.
prober::ExecFunction execFunction(CriClient& cri) {
  return [&cri](const std::string& id, const std::vector<std::string>& cmd,
                std::chrono::seconds timeout) -> Result<prober::ExecResult> {
    auto r = BERTH_TRY(cri.execSync(id, cmd, timeout));
    return prober::ExecResult{r.exit_code(), r.stdout(), r.stderr()};
  };
}

PodSyncOptions withCgroupParent(PodSyncOptions options, const PodCgroups& cgroups) {
  options.cgroupParent = [&cgroups](const Json& pod) { return cgroups.cgroupParent(pod); };
  return options;
}

// A static pod's status lives in its mirror pod: the pod the worker syncs is the static pod with
// the mirror's status (none yet: the file's Pending).
Json withMirrorStatus(const Json& staticPod, const kubeapi::ObjectPtr& mirror) {
  Json pod = staticPod;
  if (mirror && planMirrorPod(staticPod, mirror.get()) == MirrorAction::kNone) {
    pod["status"] = jsonField(*mirror, "status");
  }
  return pod;
}

bool terminalPhase(const Json& pod) {
  const std::string phase = jsonString(jsonField(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

struct Kubelet::PodWorker {
  std::string uid;
  std::string key;  // namespace/name
  std::mutex mu;
  std::condition_variable cv;
  bool dirty = true;
  bool stop = false;
  bool done = false;
  Json lastStatus;  // what we last wrote to the API
  // The pod as its source last gave it (worker thread only), and whether it is a static pod
  // (read by the workers of the same name too).
  kubeapi::ObjectPtr lastPod;
  std::atomic<bool> isStatic = false;
  // Sync again this soon (a backoff to wait out, a step to retry); worker thread only.
  std::optional<std::chrono::milliseconds> retryAfter;
  std::thread thread;
};

Kubelet::Kubelet(std::shared_ptr<kubeapi::RestClient> api, KubeletOptions options)
    : api_(std::move(api)),
      options_(std::move(options)),
      cri_(options_.criEndpoint, options_.runtimeRequestTimeout),
      objects_(api_),
      recorder_(std::make_unique<kubeapi::EventRecorder>(
          api_, kubeapi::EventSource{.component = "kubelet", .host = options_.nodeName})),
      events_(recorder_.get()),
      images_(cri_, events_, options_.maxParallelImagePulls, options_.serializeImagePulls),
      cgroups_(options_.cgroups),
      sync_(cri_, images_, objects_, events_, withHooks(withCgroupParent(options_.sync, cgroups_))),
      volumes_({.rootDir = options_.rootDir}, objects_),
      probes_(
          prober::Prober(execFunction(cri_)),
          {.onChange = [this](const std::string& uid) { markDirty(uid); }, .events = &events_}) {}

PodSyncOptions Kubelet::withHooks(PodSyncOptions options) {
  prober::HookRunner runner{.exec = execFunction(cri_)};
  options.postStart = [runner](const Json& pod, const Json& container, const std::string& id,
                               const std::string& podIp) {
    return prober::runPostStart({pod, container, id, podIp}, runner);
  };
  options.preStop = [runner](const Json& pod, const Json& container, const std::string& id,
                             std::int64_t grace) -> std::int64_t {
    std::string podIp = jsonString(jsonField(pod, "status"), "podIP");
    return prober::runPreStop({pod, container, id, podIp}, runner, std::chrono::seconds(grace))
        .count();
  };
  return options;
}

Kubelet::~Kubelet() {
  stop();
}

Status Kubelet::start() {
  // The node's events name it by name, with its name as UID (upstream's nodeRef).
  recorder_->event({{"kind", "Node"}, {"name", options_.nodeName}, {"uid", options_.nodeName}},
                   PodEvents::kNormal, "Starting", "Starting kubelet.");
  if (auto v = cri_.version()) {
    runtimeName_ = v->runtime_name();
    kubeletLog()->info("container runtime {} {} [endpoint={}]", v->runtime_name(),
                       v->runtime_version(), options_.criEndpoint);
  } else {
    // The node registers anyway and reports NotReady until the runtime answers.
    kubeletLog()->warn("container runtime [endpoint={}]: {}", options_.criEndpoint,
                       v.error().message());
  }
  if (options_.healthzPort > 0) {
    http::ServerOptions ho;
    ho.bindAddress = options_.healthzBindAddress;
    ho.port = static_cast<std::uint16_t>(options_.healthzPort);
    ho.workerThreads = 1;
    healthz_ = BERTH_TRY(http::Server::start(
        ho, [this](http::Request& req, std::shared_ptr<http::ResponseWriter> w) {
          http::Response r;
          r.headers.set("Content-Type", "text/plain; charset=utf-8");
          if (req.path != "/healthz") {
            r.status = 404;
            r.body = "404 page not found\n";
          } else if (healthy()) {
            r.body = "ok";
          } else {
            r.status = 500;
            r.body = "[-]pleg failed: pleg was last seen active too long ago\nhealthz check failed";
          }
          w->respond(std::move(r));
        }));
  }
  lastRelistOk_ = steadyNanos();
  auto lw = std::make_unique<kubeapi::ResourceListerWatcher>(api_->resource(kPods), "",
                                                             "spec.nodeName=" + options_.nodeName);
  pods_ = std::make_unique<kubeapi::SharedInformer>(std::move(lw));
  if (!options_.staticPodPath.empty()) {
    files_ = std::make_unique<FilePodSource>(FilePodSource::Options{
        .path = options_.staticPodPath,
        .nodeName = options_.nodeName,
        .checkFrequency = options_.fileCheckFrequency,
        .onChange =
            [this](const std::vector<kubeapi::ObjectPtr>& added,
                   const std::vector<kubeapi::ObjectPtr>& removed) {
              for (const auto& p : added)
                ensureWorker(std::string(kubeapi::uidOf(*p)), kubeapi::objectKey(*p));
              for (const auto& p : removed)
                markDirty(std::string(kubeapi::uidOf(*p)));
            },
    });
  }
  sources_ = std::make_unique<PodSources>(*pods_, files_.get());
  // A mirror pod is not run: its static pod's worker keeps it current.
  auto podChanged = [this](const kubeapi::ObjectPtr& p) {
    if (isMirrorPod(*p)) {
      markDirtyByKey(kubeapi::objectKey(*p));
    } else {
      ensureWorker(std::string(kubeapi::uidOf(*p)), kubeapi::objectKey(*p));
    }
  };
  pods_->addEventHandler({
      .onAdd = podChanged,
      .onUpdate = [podChanged](const kubeapi::ObjectPtr&,
                               const kubeapi::ObjectPtr& p) { podChanged(p); },
      .onDelete =
          [this](const kubeapi::ObjectPtr& p) {
            if (isMirrorPod(*p)) {
              markDirtyByKey(kubeapi::objectKey(*p));
            } else {
              markDirty(std::string(kubeapi::uidOf(*p)));
            }
          },
  });
  // The API on :10250 listens before the Node says where it is, so whoever reads the Node
  // (berth-server's logs/exec proxy) finds it answering.
  if (options_.server) {
    serverHost_ = std::make_unique<NodeServerHost>(
        *sources_, cri_, options_.sync.sandbox.podLogsDir, options_.configz,
        [this] { return healthy(); }, probes_, pleg_);
    server_ = BERTH_TRY(server::KubeletServer::start(*options_.server, *serverHost_, api_));
  }
  nodeAgent_ = std::make_unique<NodeAgent>(api_, cri_, readMachineInfo(options_.rootDir),
                                           options_.nodeAgent);
  mirrors_ = std::make_unique<MirrorPodClient>(api_, options_.nodeName, [this] {
    const Json node = nodeAgent_->node();
    return std::string(kubeapi::uidOf(node));
  });
  // The pods start before the node registers: static pods need no API server (a control
  // plane's own kube-apiserver may be one of them).
  if (files_) files_->start();
  pods_->start();
  probes_.start();
  relistThread_ = std::thread([this] { relistLoop(); });
  if (options_.eventedPleg) eventsThread_ = std::thread([this] { eventLoop(); });
  BERTH_TRY(nodeAgent_->start());
  volumes_.setNodeAllocatable(jsonField(jsonField(nodeAgent_->node(), "status"), "allocatable"));
  return {};
}

void Kubelet::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (eventStream_ != nullptr) eventStream_->cancel();
  }
  cv_.notify_all();
  if (server_) server_->shutdown(std::chrono::seconds(1));
  probes_.stop();
  if (relistThread_.joinable()) relistThread_.join();
  if (eventsThread_.joinable()) eventsThread_.join();
  if (files_) files_->stop();
  if (pods_) pods_->stop();
  std::map<std::string, std::shared_ptr<PodWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [uid, w] : workers) {
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
    }
    w->cv.notify_all();
  }
  for (auto& [uid, w] : workers)
    if (w->thread.joinable()) w->thread.join();
  if (nodeAgent_) nodeAgent_->stop();
  if (healthz_) healthz_->shutdown(std::chrono::seconds(1));
}

bool Kubelet::healthy() const {
  if (eventsLive_) return true;  // the runtime is talking to us
  return steadyNanos() - lastRelistOk_.load() <
         std::chrono::duration_cast<std::chrono::nanoseconds>(kRelistThreshold).count();
}

void Kubelet::ensureWorker(const std::string& uid, const std::string& key) {
  if (uid.empty()) return;
  std::shared_ptr<PodWorker> worker;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto it = workers_.find(uid);
    if (it != workers_.end()) {
      worker = it->second;
    } else {
      worker = std::make_shared<PodWorker>();
      worker->uid = uid;
      worker->key = key;
      workers_[uid] = worker;
      worker->thread = std::thread([this, worker] { workerLoop(worker); });
      return;
    }
  }
  {
    std::lock_guard lock(worker->mu);
    worker->dirty = true;
  }
  worker->cv.notify_one();
}

void Kubelet::markDirty(const std::string& uid) {
  std::shared_ptr<PodWorker> worker;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it == workers_.end()) return;
    worker = it->second;
  }
  {
    std::lock_guard lock(worker->mu);
    worker->dirty = true;
  }
  worker->cv.notify_one();
}

void Kubelet::markDirtyByKey(const std::string& key) {
  std::vector<std::string> uids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, w] : workers_)
      if (w->key == key) uids.push_back(uid);
  }
  for (const auto& uid : uids)
    markDirty(uid);
}

void Kubelet::workerLoop(const std::shared_ptr<PodWorker>& worker) {
  auto nextSync = SteadyClock::now();
  while (true) {
    {
      std::unique_lock lock(worker->mu);
      worker->cv.wait_until(lock, nextSync, [&] { return worker->dirty || worker->stop; });
      if (worker->stop) return;
      worker->dirty = false;
    }
    worker->retryAfter.reset();
    const bool done = syncPod(*worker);
    nextSync = SteadyClock::now() +
               std::min<SteadyClock::duration>(options_.syncFrequency,
                                               worker->retryAfter.value_or(options_.syncFrequency));
    if (done) {
      std::lock_guard lock(worker->mu);
      worker->done = true;
      return;
    }
  }
}

bool Kubelet::syncPod(PodWorker& worker) {
  const PodSources::Desired desired = sources_->desired(worker.uid, worker.key, worker.isStatic);
  if (!desired.known) {
    worker.retryAfter = std::chrono::milliseconds(200);
    return false;
  }
  if (desired.pod) {
    worker.lastPod = desired.pod;
    worker.isStatic = desired.isStatic;
  }
  auto runtime = runtimePodStatus(cri_, worker.uid);
  if (!runtime) {
    kubeletLog()->warn("reading pod from the runtime [pod={} uid={}]: {}", worker.key, worker.uid,
                       runtime.error().message());
    worker.retryAfter = std::chrono::seconds(1);
    return false;
  }
  if (!desired.pod) return removePod(worker, *runtime);
  Json staticPod;
  const Json* pod = desired.pod.get();
  if (worker.isStatic) {
    if (olderStaticPodRunning(worker)) {
      worker.retryAfter = std::chrono::milliseconds(500);
      return false;
    }
    staticPod = withMirrorStatus(*desired.pod, sources_->mirrorPod(worker.key));
    pod = &staticPod;
  }
  // Last, whatever the sync did: a slow or absent API server does not hold up the containers.
  auto mirror = defer([&] {
    if (worker.isStatic) syncMirrorPod(worker, *desired.pod);
  });
  probes_.addPod(*pod);
  if (kubeapi::deletionTimestampOf(*pod)) {
    probes_.stopLivenessAndStartup(worker.uid);
    terminatePod(worker, *pod, *runtime);
    return false;
  }
  if (terminalPhase(*pod)) {
    // Succeeded or Failed: nothing restarts; whatever still runs is stopped.
    if (anyRunning(*runtime)) (void)sync_.killPod(pod, *runtime);
    return false;
  }
  auto volumes = volumes_.setUp(*pod);
  if (!volumes) {
    // The containers wait (ContainerCreating) until the volumes can be set up.
    kubeletLog()->warn("setting up volumes [pod={}]: {}", worker.key, volumes.error().message());
    events_.pod(*pod, PodEvents::kWarning, "FailedMount",
                "Unable to attach or mount volumes: " + volumes.error().message());
    writeStatus(worker, *pod, *runtime, probes_.verdicts(worker.uid), {}, false);
    worker.retryAfter = std::chrono::seconds(2);
    return false;
  }
  if (auto st = cgroups_.ensure(*pod); !st) {
    kubeletLog()->warn("pod cgroup [pod={}]: {}", worker.key, st.error().message());
    worker.retryAfter = std::chrono::seconds(2);
    return false;
  }
  MountsFn mounts = [&](const Json& container, const EnvList& env,
                        const std::vector<std::string>& podIps) {
    return containerMounts(*pod, *volumes, container, env, podIps);
  };
  probes_.updateContainers(*runtime);
  SyncResult result = sync_.syncPod(*pod, *runtime, probes_.verdicts(worker.uid), mounts);
  if (result.error) {
    kubeletLog()->warn("syncing pod [pod={}]: {}", worker.key, result.error->message());
  }
  auto after = runtimePodStatus(cri_, worker.uid);
  if (after) {
    probes_.updateContainers(*after);
    writeStatus(worker, *pod, *after, probes_.verdicts(worker.uid), result.waiting, false);
  }
  if (result.retryAfter || result.error) {
    worker.retryAfter = result.retryAfter.value_or(std::chrono::seconds(10));
  }
  return false;
}

bool Kubelet::removePod(PodWorker& worker, const RuntimePodStatus& runtime) {
  // A static pod stops as its spec says (grace period, preStop); an API pod deleted for good (or
  // never ours) with what its containers recorded.
  const Json* last = worker.isStatic && worker.lastPod ? worker.lastPod.get() : nullptr;
  if (auto st = sync_.killPod(last, runtime); !st) {
    kubeletLog()->warn("killing pod [pod={}]: {}", worker.key, st.error().message());
    worker.retryAfter = std::chrono::seconds(1);
    return false;
  }
  auto after = runtimePodStatus(cri_, worker.uid);
  if (!after || !sync_.removePod(*after)) {
    worker.retryAfter = std::chrono::seconds(1);
    return false;
  }
  auto slash = worker.key.find('/');
  const std::string logDir =
      fmt::format("{}/{}_{}_{}", options_.sync.sandbox.podLogsDir, worker.key.substr(0, slash),
                  worker.key.substr(slash + 1), worker.uid);
  if (auto st = cleanUpPod(worker.uid, logDir); !st) {
    kubeletLog()->warn("cleaning up pod [pod={}]: {}", worker.key, st.error().message());
    worker.retryAfter = std::chrono::seconds(1);
    return false;
  }
  probes_.removePod(worker.uid);
  kubeletLog()->info("removed pod [pod={} uid={}]", worker.key, worker.uid);
  return true;
}

bool Kubelet::olderStaticPodRunning(const PodWorker& worker) {
  std::lock_guard lock(mu_);
  for (const auto& [uid, w] : workers_) {
    if (w.get() == &worker || w->key != worker.key || !w->isStatic) continue;
    std::lock_guard wl(w->mu);
    if (!w->done) return true;
  }
  return false;
}

void Kubelet::syncMirrorPod(PodWorker& worker, const Json& staticPod) {
  if (!sources_->apiSynced()) return;
  kubeapi::ObjectPtr mirror = sources_->mirrorPod(worker.key);
  auto created = mirrors_->sync(staticPod, mirror.get());
  if (!created) {
    kubeletLog()->warn("mirror pod [pod={}]: {}", worker.key, created.error().message());
    if (!worker.retryAfter || *worker.retryAfter > std::chrono::seconds(2)) {
      worker.retryAfter = std::chrono::seconds(2);
    }
    return;
  }
  // A new mirror starts with the server's status: write ours again.
  if (*created) worker.lastStatus = Json();
}

void Kubelet::deleteOrphanedMirrorPods() {
  for (const auto& mirror : sources_->orphanedMirrorPods()) {
    // Its static pod is still stopping (its worker is alive): the mirror goes once it is done.
    const std::string key = kubeapi::objectKey(*mirror);
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& [uid, w] : workers_)
        stopping = stopping || w->key == key;
    }
    if (stopping) continue;
    if (auto st = mirrors_->remove(*mirror); !st) {
      kubeletLog()->warn("deleting orphaned mirror pod [pod={}]: {}", key, st.error().message());
    }
  }
}

void Kubelet::terminatePod(PodWorker& worker, const Json& pod, const RuntimePodStatus& runtime) {
  if (anyRunning(runtime)) {
    if (auto st = sync_.killPod(&pod, runtime); !st) {
      kubeletLog()->warn("killing pod [pod={}]: {}", worker.key, st.error().message());
      worker.retryAfter = std::chrono::seconds(1);
      return;
    }
  }
  auto after = runtimePodStatus(cri_, worker.uid);
  if (!after || anyRunning(*after)) {
    worker.retryAfter = std::chrono::seconds(1);
    return;
  }
  writeStatus(worker, pod, *after, probes_.verdicts(worker.uid), {}, true);
  // Upstream deletes the API object only once the volumes are gone too.
  if (auto st = volumes_.tearDown(worker.uid); !st) {
    kubeletLog()->warn("tearing down volumes [pod={}]: {}", worker.key, st.error().message());
    worker.retryAfter = std::chrono::seconds(1);
    return;
  }
  // Everything stopped: the API object goes now (the status manager's final delete).
  kubeapi::DeleteOptions del;
  del.gracePeriodSeconds = 0;
  del.preconditionUid = worker.uid;
  auto pods = api_->resource(kPods).inNamespace(kubeapi::namespaceOf(pod));
  if (auto st = pods.remove(kubeapi::nameOf(pod), del); !st && !st.error().isNotFound()) {
    kubeletLog()->warn("deleting pod [pod={}]: {}", worker.key, st.error().toError().message());
    worker.retryAfter = std::chrono::seconds(1);
  }
}

Result<std::vector<cri::Mount>> Kubelet::containerMounts(const Json& pod,
                                                         const volume::PodVolumes& volumes,
                                                         const Json& container, const EnvList& env,
                                                         const std::vector<std::string>& podIps) {
  std::vector<cri::Mount> mounts;
  const std::string name = jsonString(container, "name");
  bool mountsEtcHosts = false;
  const Json& volumeMounts = kubeapi::jsonArray(container, "volumeMounts");
  for (std::size_t i = 0; i < volumeMounts.size(); ++i) {
    const Json& vm = volumeMounts[i];
    std::optional<std::string> subPathExpr;
    if (std::string expr = jsonString(vm, "subPathExpr"); !expr.empty()) {
      subPathExpr = expandVariables(expr, [&](std::string_view var) -> std::optional<std::string> {
        for (const auto& [k, v] : env)
          if (k == var) return v;
        return std::nullopt;
      });
    }
    auto m = BERTH_TRY(volumes_.containerMount(pod, volumes, name, i, vm, subPathExpr));
    cri::Mount out;
    out.set_container_path(m.containerPath);
    out.set_host_path(m.hostPath);
    out.set_readonly(m.readOnly);
    const std::string propagation = jsonString(vm, "mountPropagation");
    if (propagation == "HostToContainer") out.set_propagation(cri::PROPAGATION_HOST_TO_CONTAINER);
    if (propagation == "Bidirectional") out.set_propagation(cri::PROPAGATION_BIDIRECTIONAL);
    if (m.containerPath == "/etc/hosts") mountsEtcHosts = true;
    mounts.push_back(std::move(out));
  }
  const Json& spec = jsonField(pod, "spec");
  if (!mountsEtcHosts && !kubeapi::jsonBool(spec, "hostNetwork")) {
    auto hosts = BERTH_TRY(writeEtcHosts(volumes_.paths(), pod, podIps,
                                         podHostname(pod, options_.sync.sandbox.nodeHostname),
                                         options_.sync.sandbox.clusterDomain));
    cri::Mount m;
    m.set_container_path("/etc/hosts");
    m.set_host_path(hosts);
    mounts.push_back(std::move(m));
  }
  const std::string terminationPath =
      jsonString(container, "terminationMessagePath", "/dev/termination-log");
  if (!terminationPath.empty()) {
    auto file =
        BERTH_TRY(makeTerminationLogFile(volumes_.paths(), std::string(kubeapi::uidOf(pod)), name));
    cri::Mount m;
    m.set_container_path(terminationPath);
    m.set_host_path(file);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

Status Kubelet::cleanUpPod(const std::string& uid, const std::string& logDir) {
  BERTH_TRY(volumes_.tearDown(uid));
  BERTH_TRY(cgroups_.remove(uid));
  std::error_code ec;
  std::filesystem::remove_all(logDir, ec);
  if (ec) return fail(Code::kInternal, "removing {}: {}", logDir, ec.message());
  return {};
}

void Kubelet::writeStatus(PodWorker& worker, const Json& pod, const RuntimePodStatus& runtime,
                          const ProbeVerdicts& probes,
                          const std::map<std::string, WaitingReason>& waiting, bool terminal) {
  Json status = generatePodStatus({.pod = pod,
                                   .runtime = runtime,
                                   .probes = probes,
                                   .waiting = waiting,
                                   .nodeIps = options_.nodeIps,
                                   .runtimeName = runtimeName_,
                                   .now = kubeapi::now(),
                                   .terminal = terminal});
  // A static pod's status goes to its mirror pod, once the API holds the current one.
  if (worker.isStatic) {
    kubeapi::ObjectPtr mirror = sources_->mirrorPod(worker.key);
    if (!mirror || planMirrorPod(pod, mirror.get()) != MirrorAction::kNone) return;
  }
  // The API's copy may be newer than ours (another writer): compare against what it holds.
  if (status == jsonField(pod, "status") || status == worker.lastStatus) return;
  Json patch = {{"status", status}};
  auto pods = api_->resource(kPods).inNamespace(kubeapi::namespaceOf(pod));
  auto st =
      pods.patch(kubeapi::nameOf(pod), kubeapi::PatchType::kMerge, patch.dump(), {}, "status");
  if (!st) {
    kubeletLog()->warn("writing pod status [pod={}]: {}", worker.key,
                       st.error().toError().message());
    return;
  }
  worker.lastStatus = std::move(status);
}

void Kubelet::relistLoop() {
  std::uint64_t ticks = 0;
  auto lastList = std::chrono::steady_clock::time_point::min();
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.relistPeriod, [&] { return stopping_; })) return;
    }
    const bool housekeeping = ++ticks % 10 == 0;
    // While container events flow they mark the pods; listing the runtime is the fallback.
    const auto now = std::chrono::steady_clock::now();
    if (eventsLive_ && !relistNow_.exchange(false) &&
        now - lastList < options_.eventedRelistPeriod) {
      reapWorkers();
      deleteOrphanedMirrorPods();
      if (housekeeping) sweepOrphanedPodDirs();
      continue;
    }
    lastList = now;
    auto pods = listRuntimePods(cri_);
    ++pleg_.relists;
    pleg_.relistMicros += std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - now)
                              .count();
    if (!pods) {
      kubeletLog()->warn("relist: {}", pods.error().message());
      continue;
    }
    lastRelistOk_ = steadyNanos();
    for (const auto& [uid, summary] : *pods) {
      auto before = lastRelist_.find(uid);
      if (before != lastRelist_.end() && before->second == summary) continue;
      // New or changed. A pod the informer does not know gets a worker too: it finds no API
      // object and removes what the runtime holds (orphans after a deletion we missed).
      ensureWorker(uid, kubeapi::objectKey(summary.ns, summary.name));
    }
    for (const auto& [uid, summary] : lastRelist_) {
      if (!pods->contains(uid)) markDirty(uid);
    }
    lastRelist_ = std::move(*pods);
    reapWorkers();
    deleteOrphanedMirrorPods();
    if (housekeeping) sweepOrphanedPodDirs();
  }
}

void Kubelet::eventLoop() {
  constexpr auto kMaxBackoff = std::chrono::seconds(30);
  std::chrono::milliseconds backoff(500);
  while (true) {
    std::unique_ptr<ContainerEventStream> stream = cri_.containerEvents();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      eventStream_ = stream.get();
    }
    stream->waitReady();
    // A runtime that is not there fails the call before it is up: nothing is live then.
    if (cri_.connected()) {
      ++pleg_.eventedConnections;
      eventsLive_ = true;
      relistNow_ = true;  // what changed before the subscription is found by one list
    }
    cri::ContainerEventResponse event;
    while (stream->next(event)) {
      backoff = std::chrono::milliseconds(500);
      const auto& meta = event.pod_sandbox_status().metadata();
      ensureWorker(meta.uid(), kubeapi::objectKey(meta.namespace_(), meta.name()));
    }
    eventsLive_ = false;
    Status ended = stream->finish();
    {
      std::lock_guard lock(mu_);
      eventStream_ = nullptr;
      if (stopping_) return;
    }
    if (!ended && ended.error().code() == Code::kUnimplemented) {
      kubeletLog()->info("the runtime sends no container events: relisting every {} ms",
                         options_.relistPeriod.count());
      return;
    }
    ++pleg_.eventedErrors;
    kubeletLog()->warn("container events: {}; relisting every {} ms until they are back",
                       ended ? "the stream ended" : ended.error().message(),
                       options_.relistPeriod.count());
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, backoff, [&] { return stopping_; })) return;
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
  }
}

void Kubelet::sweepOrphanedPodDirs() {
  if (!sources_->apiSynced()) return;
  auto onDisk = volumes_.podsOnDisk();
  if (!onDisk) return;
  std::set<std::string> known = sources_->uids();
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, w] : workers_)
      known.insert(uid);
  }
  for (const auto& [uid, summary] : lastRelist_)
    known.insert(uid);
  for (const auto& uid : *onDisk) {
    if (known.contains(uid)) continue;
    // A pod whose directory outlived it (a teardown cut short by a restart): finish it.
    if (auto st = volumes_.tearDown(uid); !st) {
      kubeletLog()->warn("removing orphaned pod directory [uid={}]: {}", uid, st.error().message());
      continue;
    }
    (void)cgroups_.remove(uid);
    kubeletLog()->info("removed orphaned pod directory [uid={}]", uid);
  }
}

void Kubelet::reapWorkers() {
  std::vector<std::shared_ptr<PodWorker>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      bool finished;
      {
        std::lock_guard wl(it->second->mu);
        finished = it->second->done;
      }
      if (finished) {
        done.push_back(it->second);
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : done)
    if (w->thread.joinable()) w->thread.join();
}

}  // namespace berth::kubelet
