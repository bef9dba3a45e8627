#include "controlplane/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/http/server.h"
#include "controlplane/apiserver/api_server.h"
#include "controlplane/apiserver/bootstrap.h"
#include "controlplane/apiserver/cache_lookup.h"
#include "controlplane/apiserver/csr_controllers.h"
#include "controlplane/apiserver/namespace_controllers.h"
#include "controlplane/apiserver/server_admission.h"
#include "controlplane/auth/authentication.h"
#include "controlplane/auth/pki_store.h"
#include "controlplane/server_auth.h"
#include "controlplane/server_log.h"
#include "controlplane/server_schema.h"
#include "controlplane/storage/etcd_backend.h"
#include "controlplane/storage/sqlite_backend.h"
#include "kubeapi/kubeconfig.h"

namespace berth::controlplane {
namespace {

using apiserver::Json;

// RFC 4122 version 4, as the apiserver's uuid.NewUUID gives.
std::string newUid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

// generateName's suffix: five characters from apimachinery's alphabet (no vowels, no look-alikes).
std::string randomSuffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string s(5, ' ');
  for (char& c : s)
    c = kAlphabet[pick(rng)];
  return s;
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Compacts an etcd store as kube-apiserver does: every interval, up to the revision seen at the
// previous tick, so watches can resume across one interval. (The SQLite store compacts itself.)
class Compactor {
 public:
  Compactor(storage::Backend& backend, std::chrono::milliseconds interval)
      : backend_(backend), interval_(interval), thread_([this] { run(); }) {}
  ~Compactor() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::int64_t previous = 0;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      if (previous > 0) {
        if (auto done = backend_.compact(previous); !done) {
          serverLogger()->warn("compact etcd to revision {}: {}", previous, done.error().message());
        }
      }
      previous = backend_.currentRevision().value_or(previous);
      lock.lock();
    }
  }

  storage::Backend& backend_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

class RunningServer final : public Server {
 public:
  int port() const override { return http_ ? http_->port() : 0; }
  void shutdown(std::chrono::milliseconds grace) override {
    if (api_) api_->setReady(false);
    if (http_) http_->shutdown(grace);
    csrControllers_.reset();
    controllers_.reset();
  }
  ~RunningServer() override { shutdown(std::chrono::milliseconds(0)); }

  Status start(const ServerOptions& options);

 private:
  // <dataDir>/<name>.kubeconfig for the client certificate pair `name`.
  Status writeClientKubeconfig(const ServerOptions& options, const auth::ClusterPki& pki,
                               const std::string& name);

  std::unique_ptr<auth::ClusterPki> pki_;
  apiserver::Metrics metrics_;
  std::unique_ptr<storage::Backend> backend_;
  std::unique_ptr<Compactor> compactor_;
  std::unique_ptr<storage::WatchCache> cache_;
  std::unique_ptr<apiserver::CacheLookup> lookup_;
  std::unique_ptr<apiserver::Registry> registry_;
  std::unique_ptr<apiserver::ServiceAllocator> allocator_;
  std::unique_ptr<ServerAuth> auth_;
  std::unique_ptr<apiserver::ServerAdmission> admission_;
  std::unique_ptr<apiserver::Encoder> encoder_;
  std::unique_ptr<apiserver::ApiServer> api_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<apiserver::NamespaceControllers> controllers_;
  std::unique_ptr<apiserver::CsrControllers> csrControllers_;
};

Status RunningServer::writeClientKubeconfig(const ServerOptions& options,
                                            const auth::ClusterPki& pki, const std::string& name) {
  std::string host = options.bindAddress == "0.0.0.0" || options.bindAddress == "::"
                         ? "127.0.0.1"
                         : options.bindAddress;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string ca = BERTH_TRY(readFile(pki.caCertificateFile()));
  std::string cert = BERTH_TRY(readFile(pki.clientCertificateFile(name)));
  std::string key = BERTH_TRY(readFile(pki.clientKeyFile(name)));
  auto config = kubeapi::Kubeconfig::embedded("berth", fmt::format("https://{}:{}", host, port()),
                                              ca, cert, key);
  auto path = options.dataDir / (name + ".kubeconfig");
  return withContext(config.write(path), path.string());
}

Status RunningServer::start(const ServerOptions& options) {
  if (::mkdir(options.dataDir.c_str(), 0700) != 0 && errno != EEXIST) {
    return failErrno(fmt::format("create --data-dir {}", options.dataDir.string()));
  }
  auto services = BERTH_TRY(apiserver::parseServiceAllocatorConfig(options.serviceClusterIpRange,
                                                                   options.serviceNodePortRange));

  // Certificates: the serving one names every address a client may use.
  auth::PkiOptions pkiOptions;
  pkiOptions.servingDnsNames = auth::defaultServingDnsNames(options.clusterDomain);
  pkiOptions.servingDnsNames.push_back(hostname());
  pkiOptions.servingIpAddresses = {"127.0.0.1", "::1"};
  for (const std::string& address : {options.bindAddress, options.advertiseAddress}) {
    if (!address.empty() && address != "0.0.0.0" && address != "::") {
      pkiOptions.servingIpAddresses.push_back(address);
    }
  }
  for (const IpAddr& ip : apiserver::kubernetesServiceIps(services)) {
    pkiOptions.servingIpAddresses.push_back(ip.str());
  }
  for (const std::string& san : options.tlsSans) {
    (IpAddr::parse(san) ? pkiOptions.servingIpAddresses : pkiOptions.servingDnsNames)
        .push_back(san);
  }
  pkiOptions.clients = {{"admin", "system:admin", {"system:masters"}},
                        {"kubelet-client", "kube-apiserver-kubelet-client", {"system:masters"}}};
  for (const auto& identity : options.clientIdentities) {
    pkiOptions.clients.push_back({identity.name, identity.user, identity.groups});
  }
  pki_ = std::make_unique<auth::ClusterPki>(
      BERTH_TRY(loadOrCreatePki(options.dataDir / "tls", pkiOptions)));
  const auth::ClusterPki& pki = *pki_;

  // The store and what reads it.
  std::unique_ptr<storage::Backend> backend;
  if (options.etcdServers.empty()) {
    storage::SqliteOptions sqlite;
    sqlite.path = options.dataDir / "db" / "state.db";
    sqlite.compactionInterval = options.etcdCompactionInterval;
    backend = BERTH_TRY(storage::SqliteBackend::open(sqlite));
  } else {
    storage::EtcdOptions etcd;
    etcd.servers = options.etcdServers;
    etcd.caFile = options.etcdCaFile;
    etcd.certFile = options.etcdCertFile;
    etcd.keyFile = options.etcdKeyFile;
    backend = BERTH_TRY_CTX(storage::EtcdBackend::open(etcd), "--etcd-servers");
    compactor_ = std::make_unique<Compactor>(*backend, options.etcdCompactionInterval);
  }
  backend_ = apiserver::timedBackend(std::move(backend), metrics_);
  cache_ = BERTH_TRY(storage::WatchCache::start(*backend_, {}));
  lookup_ = std::make_unique<apiserver::CacheLookup>(*cache_);

  apiserver::StoreEnv env;
  env.now = [] { return std::chrono::system_clock::now(); };
  env.newUid = newUid;
  env.randomSuffix = randomSuffix;
  env.bookmarkInterval = options.watchBookmarkInterval;
  registry_ = std::make_unique<apiserver::Registry>(*backend_, *cache_, env);
  allocator_ = std::make_unique<apiserver::ServiceAllocator>(services, *cache_);

  auth_ = BERTH_TRY(ServerAuth::create(options, pki, *lookup_));
  admission_ = std::make_unique<apiserver::ServerAdmission>(*lookup_, *allocator_,
                                                            auth_->admission(), randomSuffix);
  apiserver::ApiServerOptions apiOptions;
  ServerSchema schema = BERTH_TRY(ServerSchema::load(*registry_, apiOptions.gitVersion));
  encoder_ = std::make_unique<apiserver::Encoder>(schema.table);
  apiOptions.minRequestTimeout = options.minRequestTimeout;
  apiOptions.kubeletTls = {.caFile = options.kubeletCertificateAuthority,
                           .certFile = options.kubeletClientCertificate.empty()
                                           ? pki.clientCertificateFile("kubelet-client").string()
                                           : options.kubeletClientCertificate,
                           .keyFile = options.kubeletClientKey.empty()
                                          ? pki.clientKeyFile("kubelet-client").string()
                                          : options.kubeletClientKey};
  if (!options.kubeletPreferredAddressTypes.empty()) {
    apiOptions.kubeletAddressTypes = options.kubeletPreferredAddressTypes;
  }
  api_ = std::make_unique<apiserver::ApiServer>(
      apiOptions, *registry_, auth_->authenticator(), auth_->authorizer(), *admission_, *encoder_,
      schema.hooks, auth_->hooks(), metrics_, [this] { return backend_->sizeBytes().value_or(0); });

  http::ServerOptions httpOptions;
  httpOptions.bindAddress = options.bindAddress;
  httpOptions.port = static_cast<std::uint16_t>(options.securePort);
  httpOptions.tls = http::TlsServerConfig{
      .certFile =
          options.tlsCertFile.empty() ? pki.servingCertificateFile().string() : options.tlsCertFile,
      .keyFile = options.tlsPrivateKeyFile.empty() ? pki.servingKeyFile().string()
                                                   : options.tlsPrivateKeyFile,
      .clientCaFile =
          options.clientCaFile.empty() ? pki.caCertificateFile().string() : options.clientCaFile,
      .enableHttp2 = false};
  apiserver::ApiServer* api = api_.get();
  http_ = BERTH_TRY(http::Server::start(
      httpOptions, [api](http::Request& request, std::shared_ptr<http::ResponseWriter> writer) {
        api->handle(request, std::move(writer));
      }));

  apiserver::BootstrapConfig boot;
  boot.advertiseAddress =
      options.advertiseAddress.empty() ? options.bindAddress : options.advertiseAddress;
  if (boot.advertiseAddress == "0.0.0.0") boot.advertiseAddress = "127.0.0.1";
  boot.securePort = port();
  boot.kubernetesServiceIps = allocator_->kubernetesServiceIps();
  boot.policy = auth_->bootstrapPolicy();
  BERTH_TRY(apiserver::bootstrap(*registry_, boot));

  std::string caPem = BERTH_TRY(readFile(pki.caCertificateFile()));
  controllers_ = std::make_unique<apiserver::NamespaceControllers>(*registry_, *cache_, caPem);
  BERTH_TRY(controllers_->start());
  csrControllers_ = std::make_unique<apiserver::CsrControllers>(
      *registry_, *cache_, auth_->authorizer(), pki.ca, options.clusterSigningDuration);
  BERTH_TRY(csrControllers_->start());

  // Ready: the kubeconfig appears once the server answers, so a reader can use it at once.
  api_->setReady(true);
  for (const auto& identity : options.clientIdentities) {
    BERTH_TRY(writeClientKubeconfig(options, pki, identity.name));
  }
  BERTH_TRY(writeClientKubeconfig(options, pki, "admin"));
  serverLogger()->info("berth-server: serving on {}:{}, data in {}", options.bindAddress, port(),
                       options.dataDir.string());
  return {};
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  auto server = std::make_unique<RunningServer>();
  BERTH_TRY(server->start(options));
  return server;
}

}  // namespace berth::controlplane
