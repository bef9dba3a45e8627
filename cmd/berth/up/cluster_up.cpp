#include "cmd/berth/up/cluster_up.h"

#include "cmd/berth/up/node_purge.h"

#include <unistd.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/ip.h"
#include "common/log.h"
#include "common/unix_socket.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server.h"
#include "dns/cluster_dns.h"
#include "dns/kube_dns_objects.h"
#include "images/importer.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/node_name.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "kubeapi/validation.h"

namespace berth::cmd {

namespace {

// --datastore: "" or "sqlite" (embedded) or "etcd://h1:2379,h2:2379" (http endpoints).
Result<std::vector<std::string>> etcdServers(const std::string& datastore) {
  if (datastore.empty() || datastore == "sqlite") return std::vector<std::string>{};
  constexpr std::string_view kScheme = "etcd://";
  if (!datastore.starts_with(kScheme)) {
    return fail(Code::kInvalidArgument,
                "--datastore \"{}\": expected sqlite or etcd://host:port[,host:port...]",
                datastore);
  }
  std::vector<std::string> out;
  std::string rest = datastore.substr(kScheme.size());
  for (size_t start = 0; start <= rest.size();) {
    size_t comma = rest.find(',', start);
    std::string endpoint = rest.substr(start, comma == std::string::npos ? comma : comma - start);
    if (endpoint.empty()) return fail(Code::kInvalidArgument, "--datastore: empty endpoint");
    out.push_back("http://" + endpoint);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// One CIDR, or a dual-stack pair (one per family).
Status checkCidrs(std::string_view flag, const std::string& value) {
  std::vector<int> families;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    auto part = std::string_view(value).substr(
        start, comma == std::string::npos ? std::string_view::npos : comma - start);
    auto net = IpNet::parse(part);
    if (!net) return fail(Code::kInvalidArgument, "{} \"{}\": not a CIDR", flag, part);
    if (std::ranges::find(families, net->ip().family()) != families.end()) {
      return fail(Code::kInvalidArgument, "{} \"{}\": at most one CIDR per family", flag, value);
    }
    families.push_back(net->ip().family());
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {};
}

}  // namespace

bool UpOptions::disabled(std::string_view part) const {
  return std::ranges::find(disable, part) != disable.end();
}

ClusterUp::ClusterUp(UpOptions options)
    : options_(std::move(options)), paths_{std::filesystem::absolute(options_.dataDir)} {}

ClusterUp::~ClusterUp() {
  stop();
}

Result<std::unique_ptr<ClusterUp>> ClusterUp::start(const UpOptions& options) {
  std::unique_ptr<ClusterUp> up(new ClusterUp(options));
  if (auto s = up->run(); !s) {
    up->stop();
    return std::unexpected(s.error());
  }
  return up;
}

std::filesystem::path ClusterUp::adminKubeconfig() const {
  if (!options_.writeKubeconfig.empty()) return options_.writeKubeconfig;
  return paths_.data / "admin.kubeconfig";
}

Status ClusterUp::run() {
  for (const auto& part : options_.disable) {
    static const std::vector<std::string> kParts = {"scheduler", "controllers", "cri",
                                                    "kubelet",   "proxy",       "dns"};
    if (std::ranges::find(kParts, part) == kParts.end()) {
      return fail(Code::kInvalidArgument, "--disable {}: not one of {}", part,
                  fmt::join(kParts, ", "));
    }
  }
  BERTH_TRY(checkCidrs("--cluster-cidr", options_.clusterCidr));
  BERTH_TRY(checkCidrs("--service-cidr", options_.serviceCidr));
  if (!options_.nodeIp.empty() && !IpAddr::parse(options_.nodeIp)) {
    return fail(Code::kInvalidArgument, "--node-ip \"{}\": not an IP address", options_.nodeIp);
  }
  if (options_.clusterDns.empty()) {
    // The 10th address of the (first) service CIDR, as k3s and kubeadm pick it.
    auto services = IpNet::parse(options_.serviceCidr.substr(0, options_.serviceCidr.find(',')));
    IpAddr ip = services->network();
    for (int i = 0; i < 10; ++i)
      ip = ip.next();
    options_.clusterDns = ip.str();
  } else if (!IpAddr::parse(options_.clusterDns)) {
    return fail(Code::kInvalidArgument, "--cluster-dns \"{}\": not an IP address",
                options_.clusterDns);
  }
  nodeName_ = kubeapi::nodeNameOrHostname(options_.nodeName);
  if (auto errors = kubeapi::isDNS1123Subdomain(nodeName_); !errors.empty()) {
    return fail(Code::kInvalidArgument, "--node-name \"{}\": {}", nodeName_, errors.front());
  }
  bin_ = BERTH_TRY(findNodeExecutables(options_));
  BERTH_TRY(prepareDataDir());
  BERTH_TRY(startServer());
  BERTH_TRY(startControlLoops());
  if (!options_.disabled("cri")) BERTH_TRY(startCri());
  if (!options_.disabled("kubelet")) BERTH_TRY(startKubelet());
  if (!options_.disabled("proxy")) BERTH_TRY(startProxy());
  if (!options_.disabled("dns")) BERTH_TRY(startDns());
  return {};
}

Status ClusterUp::prepareDataDir() {
  BERTH_TRY(makeDirs(paths_.data, 0700));
  auto lock = FileLock::tryLock(paths_.lockFile());
  if (!lock) {
    return fail(Code::kFailedPrecondition, "--data-dir {}: another `berth up` is running on it",
                paths_.data.string());
  }
  lock_.emplace(std::move(*lock));
  for (const auto& dir : {paths_.agent(), paths_.run(), paths_.logs(), paths_.airgapImages()}) {
    BERTH_TRY(makeDirs(dir, 0700));
  }
  return writeFileAtomic(paths_.pidFile(), fmt::format("{}\n", ::getpid()), 0644,
                         Durability::kVolatile);
}

Status ClusterUp::startServer() {
  controlplane::ServerOptions o;
  o.bindAddress = options_.bindAddress;
  o.securePort = options_.httpsListenPort;
  o.dataDir = paths_.server();
  o.etcdServers = BERTH_TRY(etcdServers(options_.datastore));
  o.serviceClusterIpRange = options_.serviceCidr;
  o.clusterDomain = options_.clusterDomain;
  if (!options_.nodeIp.empty()) {
    o.advertiseAddress = options_.nodeIp;
    o.tlsSans.push_back(options_.nodeIp);
  }
  // Each loop and daemon its own user, as the bootstrap RBAC policy expects them; the
  // controller manager acts with system:masters since the per-controller service account
  // credentials (--use-service-account-credentials) are not implemented.
  o.clientIdentities = {
      {"controller-manager", "system:kube-controller-manager", {"system:masters"}},
      {"scheduler", "system:kube-scheduler", {}},
      {"kube-proxy", "system:kube-proxy", {}},
      {"kubelet", "system:node:" + nodeName_, {"system:nodes"}},
  };
  server_ = BERTH_TRY_CTX(controlplane::Server::start(o), "berth-server");
  // The admin kubeconfig where the user asked for it (0600 as the server writes it).
  std::string admin = BERTH_TRY(readFile(paths_.kubeconfig("admin")));
  auto target = adminKubeconfig();
  if (target.has_parent_path()) BERTH_TRY(makeDirs(target.parent_path(), 0755));
  return withContext(writeFileAtomic(target, admin, 0600), "--write-kubeconfig " + target.string());
}

Status ClusterUp::startControlLoops() {
  const bool controllers = !options_.disabled("controllers");
  const bool scheduler = !options_.disabled("scheduler");
  auto kubeconfig = BERTH_TRY(kubeapi::Kubeconfig::load(paths_.kubeconfig("controller-manager")));
  auto config = BERTH_TRY(kubeconfig.restConfig());
  // kube-controller-manager's --kube-api-qps/--kube-api-burst defaults.
  config.qps = 20;
  config.burst = 30;
  informers_ =
      std::make_unique<kubeapi::InformerFactory>(BERTH_TRY(kubeapi::RestClient::create(config)));
  if (scheduler) {
    scheduler_ = std::make_unique<controlplane::scheduler::Scheduler>(*informers_);
    scheduler_->start();
  }
  if (!controllers) return {};
  controlplane::controllers::ControllerOptions o;
  o.clusterCidr = options_.clusterCidr;
  o.serviceClusterIpRange = options_.serviceCidr;
  controllers_ = std::make_unique<controlplane::controllers::ControllerManager>(*informers_, o);
  return withContext(controllers_->start(), "controllers");
}

SpawnOptions ClusterUp::daemon(const std::string& name, const std::filesystem::path& path,
                               std::vector<std::string> args) const {
  SpawnOptions o;
  o.path = path.string();
  o.args = std::move(args);
  o.args.insert(o.args.begin(), name);
  o.outputFile = paths_.log(name).string();
  return o;
}

Status ClusterUp::startCri() {
  BERTH_TRY(writeCriFiles(paths_, options_, bin_));
  // k3s' airgap images: archives dropped in agent/images are in the store before pods need them.
  auto imported = images::Importer(paths_.imageStore()).importDirectory(paths_.airgapImages());
  if (!imported) return std::unexpected(imported.error().context("import images"));
  for (const auto& image : *imported)
    namedLogger("berth")->info("imported image {}", image.name);
  BERTH_TRY(children_.start(
      "berth-cri", daemon("berth-cri", bin_.cri, {"--config", paths_.criConfig().string()})));
  // The kubelet gives up on a runtime that isn't there; wait for the socket (or berth-cri's exit).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!connectUnix(paths_.criSocket().string())) {
    if (!children_.running("berth-cri")) {
      return fail(Code::kInternal, "berth-cri exited at start (log {})",
                  paths_.log("berth-cri").string());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Code::kDeadlineExceeded, "berth-cri did not listen on {} (log {})",
                  paths_.criSocket().string(), paths_.log("berth-cri").string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

Status ClusterUp::startKubelet() {
  BERTH_TRY(writeKubeletConfig(paths_, options_));
  BERTH_TRY(recordNodeCgroups(paths_, options_.cgroupRoot));
  std::vector<std::string> args = {
      "--config=" + paths_.kubeletConfig().string(),
      "--kubeconfig=" + paths_.kubeconfig("kubelet").string(),
      "--hostname-override=" + nodeName_,
      "--root-dir=" + paths_.kubeletRoot().string(),
      "--container-runtime-endpoint=unix://" + paths_.criSocket().string(),
  };
  if (!options_.nodeIp.empty()) args.push_back("--node-ip=" + options_.nodeIp);
  return children_.start("berth-kubelet", daemon("berth-kubelet", bin_.kubelet, std::move(args)));
}

Status ClusterUp::startProxy() {
  std::string healthz = (options_.nodeIp.empty() ? std::string("0.0.0.0") : options_.nodeIp);
  if (healthz.find(':') != std::string::npos) healthz = "[" + healthz + "]";
  std::vector<std::string> args = {
      "--kubeconfig=" + paths_.kubeconfig("kube-proxy").string(),
      "--hostname-override=" + nodeName_,
      "--cluster-cidr=" + options_.clusterCidr,
      "--healthz-bind-address=" + healthz + ":10256",
      "--metrics-bind-address=127.0.0.1:10249",
  };
  return children_.start("berth-proxy", daemon("berth-proxy", bin_.proxy, std::move(args)));
}

namespace {

// Create, or replace what is there (keeping its resourceVersion).
Status createOrReplace(kubeapi::ResourceClient resource, nlohmann::json object) {
  auto created = resource.create(object);
  if (created) return {};
  if (!created.error().isAlreadyExists()) return std::unexpected(created.error().toError());
  auto current = resource.get(object["metadata"]["name"].get<std::string>());
  if (!current) return std::unexpected(current.error().toError());
  object["metadata"]["resourceVersion"] = (*current)["metadata"]["resourceVersion"];
  auto replaced = resource.update(object);
  if (!replaced) return std::unexpected(replaced.error().toError());
  return {};
}

}  // namespace

Status ClusterUp::startDns() {
  auto client = informers_->client();
  // The node's address: the flag's, else the InternalIP its kubelet registers.
  std::string nodeIp = options_.nodeIp;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (nodeIp.empty()) {
    if (auto node = client->resource({"", "v1", "nodes"}, false).get(nodeName_)) {
      for (const auto& a : (*node)["status"].value("addresses", nlohmann::json::array())) {
        if (a.value("type", "") == "InternalIP") {
          nodeIp = a.value("address", "");
          break;
        }
      }
    }
    if (!nodeIp.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Code::kDeadlineExceeded,
                  "cluster DNS: node {} reported no InternalIP (set --node-ip, or --disable dns)",
                  nodeName_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  constexpr int kDnsPort = 53;
  dns::ClusterDnsOptions o;
  o.domain = options_.clusterDomain;
  o.listenAddress = nodeIp;
  o.port = kDnsPort;
  o.selfAddresses = {options_.clusterDns};
  o.allowFrom = {options_.clusterCidr, options_.serviceCidr,
                 nodeIp + (nodeIp.find(':') == std::string::npos ? "/32" : "/128")};
  o.stateDir = paths_.dns();
  dns_ = std::make_unique<dns::ClusterDns>(*informers_, o);
  BERTH_TRY_CTX(dns_->start(), "cluster DNS (--disable dns to run without)");
  informers_->start();
  BERTH_TRY_CTX(createOrReplace(client->resource({"", "v1", "services"}).inNamespace("kube-system"),
                                dns::kubeDnsService({options_.clusterDns}, kDnsPort)),
                "kube-dns Service");
  const char* family = nodeIp.find(':') == std::string::npos ? "IPv4" : "IPv6";
  return withContext(
      createOrReplace(
          client->resource({"discovery.k8s.io", "v1", "endpointslices"}).inNamespace("kube-system"),
          dns::kubeDnsEndpointSlice(nodeName_, family, nodeIp, kDnsPort)),
      "kube-dns EndpointSlice");
}

void ClusterUp::stop() {
  if (stopped_) return;
  stopped_ = true;
  children_.stopAll();
  if (controllers_) controllers_->stop();
  if (scheduler_) scheduler_->stop();
  if (dns_) dns_->stop();
  if (informers_) informers_->stop();
  if (server_) server_->shutdown(std::chrono::seconds(5));
  if (lock_) (void)removeAll(paths_.pidFile());
}

}  // namespace berth::cmd
