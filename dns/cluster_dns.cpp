#include "dns/cluster_dns.h"

#include <signal.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/log.h"
#include "common/spawn.h"
#include "kubeapi/informer_factory.h"

namespace berth::dns {
namespace {

constexpr std::chrono::milliseconds kStartTimeout{10'000};
constexpr std::chrono::milliseconds kControlTimeout{10'000};
constexpr std::chrono::milliseconds kMinRetry{500};

auto log() {
  return namedLogger("dns");
}

const kubeapi::GroupVersionResource kServices{"", "v1", "services"};
const kubeapi::GroupVersionResource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};

kubeapi::SharedInformer& withHandler(kubeapi::SharedInformer& informer,
                                     const std::function<void()>& mark) {
  informer.addEventHandler({
      .onAdd = [mark](const kubeapi::ObjectPtr&) { mark(); },
      .onUpdate = [mark](const kubeapi::ObjectPtr&, const kubeapi::ObjectPtr&) { mark(); },
      .onDelete = [mark](const kubeapi::ObjectPtr&) { mark(); },
  });
  return informer;
}

std::string siblingOrPath(const std::string& path, const std::string& name) {
  if (path.find('/') == std::string::npos) return name;
  return (std::filesystem::path(path).parent_path() / name).string();
}

// The last lines of Unbound's log, for an error that says why it would not serve.
std::string logTail(const std::string& path) {
  auto text = readFile(path);
  if (!text || text->empty()) return "no output";
  std::string t = *text;
  while (!t.empty() && t.back() == '\n')
    t.pop_back();
  size_t from = t.size();
  for (int lines = 0; lines < 3 && from != std::string::npos && from > 0; ++lines)
    from = t.rfind('\n', from - 1);
  return from == std::string::npos ? t : t.substr(from + 1);
}

// Alive and not a zombie (its parent, gone, may leave it to an init that does not reap).
bool running(pid_t pid) {
  auto stat = readFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) return false;
  const size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
}

}  // namespace

void ClusterDns::Trigger::mark() {
  std::lock_guard lock(mu);
  dirty = true;
  cv.notify_all();
}

ClusterDns::ClusterDns(kubeapi::InformerFactory& informers, ClusterDnsOptions options)
    : options_(std::move(options)),
      settings_{.domain = options_.domain,
                .listenAddress = options_.listenAddress,
                .port = options_.port,
                .stateDir = options_.stateDir,
                .controlSocket = options_.stateDir + "/control.sock",
                .allowFrom = options_.allowFrom},
      services_(withHandler(informers.informer(kServices), [t = trigger_] { t->mark(); })),
      slices_(withHandler(informers.informer(kEndpointSlices), [t = trigger_] { t->mark(); })) {}

ClusterDns::~ClusterDns() {
  stop();
}

std::string ClusterDns::configPath() const {
  return options_.stateDir + "/unbound.conf";
}

std::string ClusterDns::renderConfig(bool withRecords) const {
  RecordSet records;
  if (withRecords) {
    std::vector<ServiceInfo> services;
    for (const auto& s : services_.cache().list())
      services.push_back(serviceInfoOf(*s));
    std::vector<SliceInfo> slices;
    for (const auto& s : slices_.cache().list())
      slices.push_back(sliceInfoOf(*s));
    records = clusterRecords(options_.domain, services, slices);
  }
  auto resolvConf = readFile(options_.resolvConf);
  if (!resolvConf) {
    log()->warn("upstream resolvers: {}", resolvConf.error().message());
  }
  std::vector<std::string> self = options_.selfAddresses;
  if (options_.port == 53) self.push_back(options_.listenAddress);
  return renderUnboundConfig(settings_, records, upstreamsOf(resolvConf.value_or(""), self));
}

void ClusterDns::stopStaleUnbound() const {
  // An Unbound a previous run of ours left (it was killed with us) holds the address: stop it,
  // but only if that pid still runs Unbound on our configuration.
  auto pidText = readFile(options_.stateDir + "/unbound.pid");
  if (!pidText) return;
  const pid_t pid = std::atoi(pidText->c_str());
  auto cmdline = readFile(fmt::format("/proc/{}/cmdline", pid));
  if (pid <= 0 || !cmdline || cmdline->find(configPath()) == std::string::npos) return;
  log()->info("stopping the Unbound a previous run left [pid={}]", pid);
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && running(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Status ClusterDns::startUnbound(const std::string& config) {
  unbound_.killAndReap();
  applied_.clear();
  BERTH_TRY_CTX(writeFileAtomic(configPath(), config, 0644, Durability::kVolatile), configPath());
  const std::string logPath = options_.stateDir + "/unbound.log";
  unbound_ =
      BERTH_TRY_CTX(startProgram({.path = options_.unboundPath,
                                  .args = {options_.unboundPath, "-d", "-p", "-c", configPath()},
                                  .outputFile = logPath}),
                    "start " + options_.unboundPath);
  BERTH_TRY(writeFileAtomic(options_.stateDir + "/unbound.pid", std::to_string(unbound_.pid()),
                            0644, Durability::kVolatile));
  // Serving once its control socket answers (it binds the DNS ports before that).
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (true) {
    auto exited = BERTH_TRY(unbound_.waitFor(std::chrono::milliseconds(50)));
    if (exited) {
      unbound_ = ChildProcess();
      return fail(Code::kUnavailable, "unbound exited ({}): {}", exited->code, logTail(logPath));
    }
    if (control("status")) break;
    if (std::chrono::steady_clock::now() > deadline)
      return fail(Code::kDeadlineExceeded, "unbound did not start: {}", logTail(logPath));
  }
  applied_ = config;
  log()->info("unbound serving on {}@{} [pid={}]", options_.listenAddress, options_.port,
              unbound_.pid());
  return {};
}

Status ClusterDns::control(const std::string& command) const {
  const std::string path = siblingOrPath(options_.unboundPath, "unbound-control");
  auto r = BERTH_TRY_CTX(runProgram({.path = path,
                                     .args = {path, "-c", configPath(), command},
                                     .captureStdout = true,
                                     .captureStderr = true,
                                     .timeout = kControlTimeout}),
                         path);
  if (!r.status.success())
    return fail(Code::kUnavailable, "unbound-control {}: {}{}", command, r.stdoutData,
                r.stderrData);
  return {};
}

Status ClusterDns::start() {
  BERTH_TRY_CTX(makeDirs(options_.stateDir), options_.stateDir);
  stopStaleUnbound();
  BERTH_TRY(startUnbound(renderConfig(false)));
  {
    std::lock_guard lock(trigger_->mu);
    trigger_->stopping = false;
  }
  thread_ = std::thread([this] { syncLoop(); });
  return {};
}

void ClusterDns::stop() {
  {
    std::lock_guard lock(trigger_->mu);
    trigger_->stopping = true;
  }
  trigger_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  unbound_.killAndReap();
}

Status ClusterDns::sync() {
  const std::string config = renderConfig(true);
  auto exited = BERTH_TRY(unbound_.waitFor(std::chrono::milliseconds(0)));
  if (!unbound_.valid() || exited) {
    log()->warn("unbound is not running, restarting it");
    return startUnbound(config);
  }
  if (config == applied_) return {};
  BERTH_TRY_CTX(writeFileAtomic(configPath(), config, 0644, Durability::kVolatile), configPath());
  BERTH_TRY(control("reload_keep_cache"));
  applied_ = config;
  log()->debug("unbound reloaded [bytes={}]", config.size());
  return {};
}

void ClusterDns::syncLoop() {
  using Clock = std::chrono::steady_clock;
  auto stopping = [this] {
    std::lock_guard lock(trigger_->mu);
    return trigger_->stopping;
  };
  // No records before both caches are full: a partial view would answer NXDOMAIN for names
  // that exist.
  for (auto* informer : {&services_, &slices_}) {
    while (!informer->waitForCacheSync(std::chrono::milliseconds(200))) {
      if (stopping()) return;
    }
  }
  Clock::time_point lastSync{};
  std::chrono::milliseconds backoff = std::max(options_.minSyncPeriod, kMinRetry);
  bool failed = false;
  std::unique_lock lock(trigger_->mu);
  while (!trigger_->stopping) {
    const auto now = Clock::now();
    Clock::time_point due = lastSync + options_.syncPeriod;
    if (trigger_->dirty) due = std::min(due, lastSync + options_.minSyncPeriod);
    if (failed) due = std::min(due, lastSync + backoff);
    if (now < due) {
      trigger_->cv.wait_until(lock, due);
      continue;
    }
    trigger_->dirty = false;
    lastSync = now;
    lock.unlock();
    Status st = sync();
    lock.lock();
    failed = !st;
    if (failed) {
      log()->error("sync failed, retrying in {} ms: {}", backoff.count(), st.error().message());
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    } else {
      backoff = std::max(options_.minSyncPeriod, kMinRetry);
    }
  }
}

}  // namespace berth::dns
