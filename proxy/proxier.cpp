#include "proxy/proxier.h"

#include <pthread.h>

#include <algorithm>

#include <fmt/chrono.h>

#include "common/log.h"
#include "kubeapi/lister_watcher.h"
#include "kubeapi/object_meta.h"

namespace berth::proxy {

namespace {

using Clock = std::chrono::steady_clock;
using kubeapi::ObjectPtr;

const kubeapi::GroupVersionResource kServices{"", "v1", "services"};
const kubeapi::GroupVersionResource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
const kubeapi::GroupVersionResource kNodes{"", "v1", "nodes"};
// kube-proxy's informers skip Services another proxy handles and headless ones.
constexpr const char* kProxiedSelector =
    "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
constexpr const char* kServiceIndex = "service";
constexpr const char* kTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";
// After a change by someone else, repair sooner than the minimum interval would allow.
constexpr std::chrono::milliseconds kRepairInterval{200};
// A transaction that deferred chain deletions (nft_plan.h) is followed by one that deletes them.
constexpr std::chrono::milliseconds kDeferredDeletionDelay{1'000};
constexpr std::chrono::milliseconds kMinRetry{500};

auto log() {
  return namedLogger("proxy");
}

// The Service an EndpointSlice belongs to: "ns/<kubernetes.io/service-name>", or "".
std::string serviceKeyOfSlice(const nlohmann::json& slice) {
  auto labels = kubeapi::labelsOf(slice);
  auto it = labels.find("kubernetes.io/service-name");
  if (it == labels.end() || it->second.empty()) return {};
  return kubeapi::objectKey(kubeapi::namespaceOf(slice), it->second);
}

// Go's time.Time String() without the monotonic reading, as kube-proxy's healthz prints it.
std::string goTimeString(kubeapi::Time t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto nanos = (t - secs).count();
  std::string frac;
  if (nanos != 0) {
    frac = fmt::format(".{:09d}", nanos);
    while (frac.back() == '0')
      frac.pop_back();
  }
  return fmt::format("{:%Y-%m-%d %H:%M:%S}{} +0000 UTC", secs, frac);
}

// kube-proxy's nodeEligible: not being deleted, not marked for deletion by the autoscaler.
bool eligible(const nlohmann::json& node) {
  if (node.contains("metadata") && node["metadata"].contains("deletionTimestamp")) return false;
  for (const auto& taint : node.value("/spec/taints"_json_pointer, nlohmann::json::array())) {
    if (taint.value("key", "") == "ToBeDeletedByClusterAutoscaler") return false;
  }
  return true;
}

TableSize sizeOf(const std::vector<nft::Table>& tables) {
  TableSize size;
  for (const nft::Table& t : tables) {
    size.chains += t.chains.size();
    size.sets += t.sets.size();
    for (const auto& [name, chain] : t.chains)
      size.rules += chain.rules.size();
    for (const auto& [name, set] : t.sets)
      size.elements += set.elements.size();
  }
  return size;
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Proxier::Proxier(std::shared_ptr<kubeapi::RestClient> api, std::unique_ptr<nft::NftWriter> writer,
                 std::unique_ptr<NftMonitor> monitor, ProxierOptions options)
    : api_(std::move(api)),
      writer_(std::move(writer)),
      monitor_(std::move(monitor)),
      options_(std::move(options)),
      desired_{baseTable(4, options_.config), baseTable(6, options_.config)} {
  node_.name = options_.nodeName;
}

Proxier::~Proxier() {
  stop();
}

Status Proxier::start() {
  pendingSince_ = Clock::now();  // the first sync is pending from the start
  BERTH_TRY(startServers());
  startInformers();
  if (monitor_) {
    monitor_->start({.onForeignChange = [this] { requestRepair(); },
                     .onOverflow =
                         [this] {
                           std::lock_guard lock(mu_);
                           overflowed_ = true;
                         }});
  }
  syncThread_ = std::thread([this] { syncLoop(); });
  return {};
}

void Proxier::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (monitor_) monitor_->stop();
  if (syncThread_.joinable()) syncThread_.join();
  for (auto* informer : {services_.get(), slices_.get(), nodes_.get()}) {
    if (informer) informer->stop();
  }
  for (auto* server : {healthz_.get(), metrics_.get()}) {
    if (server) server->shutdown(std::chrono::milliseconds(1000));
  }
}

void Proxier::startInformers() {
  kubeapi::SharedInformerOptions informerOptions{.resyncPeriod = options_.configSyncPeriod};
  services_ = std::make_unique<kubeapi::SharedInformer>(
      std::make_unique<kubeapi::ResourceListerWatcher>(api_->resource(kServices), kProxiedSelector),
      informerOptions);
  slices_ = std::make_unique<kubeapi::SharedInformer>(
      std::make_unique<kubeapi::ResourceListerWatcher>(api_->resource(kEndpointSlices),
                                                       kProxiedSelector),
      informerOptions);
  slices_->addIndex(kServiceIndex, [](const nlohmann::json& slice) {
    std::string key = serviceKeyOfSlice(slice);
    return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
  });
  nodes_ = std::make_unique<kubeapi::SharedInformer>(
      std::make_unique<kubeapi::ResourceListerWatcher>(api_->resource(kNodes, false), "",
                                                       "metadata.name=" + options_.nodeName),
      informerOptions);

  services_->addEventHandler({
      .onAdd = [this](const ObjectPtr& o) { onService(o); },
      .onUpdate = [this](const ObjectPtr&, const ObjectPtr& o) { onService(o); },
      .onDelete = [this](const ObjectPtr& o) { onService(o); },
  });
  slices_->addEventHandler({
      .onAdd = [this](const ObjectPtr& o) { onSlice(nullptr, o); },
      .onUpdate = [this](const ObjectPtr& old, const ObjectPtr& o) { onSlice(old, o); },
      .onDelete = [this](const ObjectPtr& o) { onSlice(o, nullptr); },
  });
  nodes_->addEventHandler({
      .onAdd = [this](const ObjectPtr& o) { onNode(o); },
      .onUpdate = [this](const ObjectPtr&, const ObjectPtr& o) { onNode(o); },
      .onDelete = [this](const ObjectPtr&) { onNode(nullptr); },
  });
  for (auto* informer : {services_.get(), slices_.get(), nodes_.get()})
    informer->start();
}

Status Proxier::startServers() {
  auto serve = [](const BindAddress& at, auto respond) -> Result<std::unique_ptr<http::Server>> {
    http::ServerOptions o;
    o.bindAddress = at.host;
    o.port = at.port;
    o.workerThreads = 1;
    return http::Server::start(
        o, [respond](http::Request& req, std::shared_ptr<http::ResponseWriter> w) {
          w->respond(respond(req));
        });
  };
  if (options_.healthz) {
    healthz_ = BERTH_TRY_CTX(serve(*options_.healthz,
                                   [this](const http::Request& req) {
                                     http::Response r;
                                     if (req.path != "/healthz" && req.path != "/livez") {
                                       r.status = 404;
                                       r.body = "404 page not found\n";
                                       return r;
                                     }
                                     Health h = health();
                                     r.status = h.healthy ? 200 : 503;
                                     r.headers.set("Content-Type", "application/json");
                                     r.headers.set("X-Content-Type-Options", "nosniff");
                                     r.body = std::move(h.body);
                                     return r;
                                   }),
                             "healthz server");
  }
  if (options_.metrics) {
    metrics_ = BERTH_TRY_CTX(serve(*options_.metrics,
                                   [this](const http::Request& req) {
                                     http::Response r;
                                     if (req.path != "/metrics") {
                                       r.status = 404;
                                       r.body = "404 page not found\n";
                                       return r;
                                     }
                                     r.headers.set("Content-Type",
                                                   "text/plain; version=0.0.4; charset=utf-8");
                                     r.body = stats_.render();
                                     return r;
                                   }),
                             "metrics server");
  }
  return {};
}

void Proxier::onService(const ObjectPtr& obj) {
  markDirty(kubeapi::objectKey(*obj));
}

void Proxier::onSlice(const ObjectPtr& oldObj, const ObjectPtr& newObj) {
  std::string oldKey = oldObj ? serviceKeyOfSlice(*oldObj) : "";
  std::string newKey = newObj ? serviceKeyOfSlice(*newObj) : "";
  if (!oldKey.empty() && oldKey != newKey) markDirty(oldKey);
  if (newKey.empty()) return;
  auto trigger = newObj->value("/metadata/annotations"_json_pointer, nlohmann::json::object())
                     .value(kTriggerTimeAnnotation, "");
  if (auto t = kubeapi::parseTime(trigger); !trigger.empty() && t) {
    std::lock_guard lock(mu_);
    auto [it, added] = triggerTimes_.emplace(newKey, *t);
    if (!added) it->second = std::min(it->second, *t);
  }
  markDirty(newKey);
}

void Proxier::onNode(const ObjectPtr& obj) {
  NodeInfo info = obj ? nodeInfoOf(*obj) : NodeInfo{options_.nodeName, ""};
  std::lock_guard lock(mu_);
  nodeEligible_ = !obj || eligible(*obj);
  if (info.name == node_.name && info.zone == node_.zone) return;
  node_ = std::move(info);
  allDirty_ = true;
  if (!pendingSince_) pendingSince_ = Clock::now();
  cv_.notify_all();
}

void Proxier::markDirty(const std::string& serviceKey) {
  std::lock_guard lock(mu_);
  dirty_.insert(serviceKey);
  if (!pendingSince_) pendingSince_ = Clock::now();
  cv_.notify_all();
}

void Proxier::requestRepair() {
  log()->warn("nftables: table {} changed by another program, restoring it",
              options_.config.tableName);
  std::lock_guard lock(mu_);
  repair_ = true;
  if (!pendingSince_) pendingSince_ = Clock::now();
  cv_.notify_all();
}

void Proxier::syncLoop() {
  // NftMonitor tells our own transactions from others' by this name.
  ::pthread_setname_np(::pthread_self(), kCommitterName);
  // Nothing is programmed before both caches are full: an empty view would delete every
  // Service a previous run left working.
  for (auto* informer : {services_.get(), slices_.get()}) {
    while (!informer->waitForCacheSync(std::chrono::milliseconds(500))) {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
  }
  Clock::time_point lastSync{}, lastFull{}, retryAt{}, followUpAt = Clock::time_point::max();
  bool first = true, failed = false;
  // Retries back off from the minimum interval (at least kMinRetry) to 30 s.
  const std::chrono::milliseconds firstBackoff = std::max(options_.minSyncPeriod, kMinRetry);
  std::chrono::milliseconds backoff = firstBackoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const Clock::time_point now = Clock::now();
    const bool fullDue = first || now >= lastFull + options_.syncPeriod;
    const bool changes = !dirty_.empty() || allDirty_;
    Clock::time_point due = Clock::time_point::max();
    if (fullDue) due = now;
    if (changes) due = std::min(due, lastSync + options_.minSyncPeriod);
    if (repair_) due = std::min(due, lastSync + std::min(options_.minSyncPeriod, kRepairInterval));
    if (failed) due = std::min(due, retryAt);
    due = std::min({due, followUpAt, lastFull + options_.syncPeriod});
    if (now < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    const bool full = fullDue || allDirty_;
    const bool foreign = repair_;
    const bool repair = repair_ || (full && overflowed_) || failed;
    std::set<std::string> dirty = std::exchange(dirty_, {});
    allDirty_ = repair_ = false;
    if (full) overflowed_ = false;
    lock.unlock();

    const Clock::time_point start = Clock::now();
    Status st = sync(std::move(dirty), full, repair);
    const Clock::time_point end = Clock::now();
    lock.lock();
    lastSync = end;
    if (full) lastFull = start;
    first = false;
    if (!st) {
      // What reached the kernel is unknown: the retry replaces the tables whole.
      log()->error("sync failed, retrying in {} ms: {}", backoff.count(), st.error().message());
      stats_.observeSyncFailure();
      failed = true;
      retryAt = end + backoff;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
      continue;
    }
    failed = false;
    backoff = firstBackoff;
    lastUpdated_ = kubeapi::now();
    if (dirty_.empty() && !allDirty_ && !repair_) pendingSince_.reset();
    followUpAt = deferredChains_ ? end + kDeferredDeletionDelay : Clock::time_point::max();
    if (foreign) stats_.observeRestore();
  }
}

Proxier::ServiceRules Proxier::rulesOf(const std::string& serviceKey, const NodeInfo& node) const {
  ServiceRules out;
  ObjectPtr service = services_->cache().get(serviceKey);
  if (!service) return out;
  auto ports = servicePortsOf(*service);
  if (!ports) {
    log()->warn("service {}: {}", serviceKey, ports.error().message());
    return out;
  }
  EndpointsMap endpoints;
  for (const ObjectPtr& slice : slices_->cache().byIndex(kServiceIndex, serviceKey)) {
    if (auto st = addEndpointSlice(*slice, endpoints); !st) {
      log()->warn("endpointslice {}: {}", kubeapi::objectKey(*slice), st.error().message());
    }
  }
  static const std::vector<Endpoint> kNone;
  for (const ServicePort& p : *ports) {
    auto it = endpoints.find(EndpointsKey{p.name, p.family});
    out.emplace_back(p.family,
                     computeServicePortRules(p, it == endpoints.end() ? kNone : it->second, node,
                                             options_.config));
  }
  return out;
}

// Replaces one Service's rules in desired_: its chains and sets go, its elements leave the
// shared maps, then the new ones go in. A sync touches only the dirty Services' parts.
void Proxier::replaceServiceRules(const std::string& serviceKey, ServiceRules rules) {
  if (desired_.empty()) desired_ = {baseTable(4, options_.config), baseTable(6, options_.config)};
  auto& current = rules_[serviceKey];
  for (const auto& [family, port] : current) {
    nft::Table& table = desired_[family == 6 ? 1 : 0];
    for (const nft::Chain& c : port.chains)
      table.chains.erase(c.name);
    for (const nft::Set& set : port.sets)
      table.sets.erase(set.name);
    for (const auto& [map, e] : port.elements)
      table.sets.at(map).elements.erase(e.key);
  }
  for (const auto& [family, port] : rules)
    addServicePortRules(desired_[family == 6 ? 1 : 0], port);
  if (rules.empty()) {
    rules_.erase(serviceKey);
  } else {
    current = std::move(rules);
  }
}

Status Proxier::sync(std::set<std::string> dirty, bool full, bool repair) {
  const Clock::time_point start = Clock::now();
  NodeInfo node;
  {
    std::lock_guard lock(mu_);
    node = node_;
  }
  if (full) {
    // Every Service we know and every one we have rules for (it may be gone).
    for (const std::string& key : services_->cache().keys())
      dirty.insert(key);
    for (const auto& [key, rules] : rules_)
      dirty.insert(key);
  }
  for (const std::string& key : dirty)
    replaceServiceRules(key, rulesOf(key, node));
  const std::vector<nft::Table>& desired = desired_;
  if (repair) applied_.clear();  // planChanges then replaces each table in the transaction
  const nft::PlanOptions planOptions{.deferChainDeletion = true};
  std::vector<nft::Op> ops = nft::planChanges(desired, applied_, planOptions);
  if (!ops.empty()) {
    if (auto st = writer_->send(ops); !st) {
      applied_.clear();
      return st;
    }
  }
  applied_ = nft::appliedAfter(desired, applied_, planOptions);
  // Deferred deletions stay in applied_ as extra (empty) chains.
  deferredChains_ = sizeOf(applied_).chains != sizeOf(desired).chains;
  const Clock::time_point end = Clock::now();
  stats_.observeSync(
      seconds(end - start),
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(),
      sizeOf(applied_));
  recordProgrammingLatency(dirty);
  if (log()->should_log(spdlog::level::debug)) {
    log()->debug("synced [services={} changed={} ops={} full={} repair={}] in {} ms", rules_.size(),
                 dirty.size(), ops.size(), full, repair,
                 std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count());
  }
  return {};
}

void Proxier::recordProgrammingLatency(const std::set<std::string>& synced) {
  const kubeapi::Time now = kubeapi::now();
  std::lock_guard lock(mu_);
  for (const std::string& key : synced) {
    auto it = triggerTimes_.find(key);
    if (it == triggerTimes_.end()) continue;
    stats_.observeNetworkProgramming(std::chrono::duration<double>(now - it->second).count());
    triggerTimes_.erase(it);
  }
}

Proxier::Health Proxier::health() const {
  const auto healthTimeout = 2 * options_.syncPeriod;  // kube-proxy's: twice the sync period
  std::lock_guard lock(mu_);
  const bool stale = pendingSince_ && Clock::now() - *pendingSince_ > healthTimeout;
  const bool healthy = !stale && nodeEligible_;
  return {healthy, fmt::format(R"({{"lastUpdated": "{}","currentTime": "{}", "nodeEligible": {}}})",
                               lastUpdated_ ? goTimeString(*lastUpdated_) : "",
                               goTimeString(kubeapi::now()), nodeEligible_)};
}

}  // namespace berth::proxy
