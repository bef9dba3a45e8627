#include "kubelet/certificate/bootstrap.h"

#include "common/crypto/certificate.h"
#include "common/file_util.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/rest_client.h"
#include "kubelet/certificate/cert_store.h"
#include "kubelet/certificate/csr.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet::certificate {
namespace {

// The key of a pending bootstrap CSR survives a restart, so the restarted kubelet asks again
// with the same key (and so the same CSR name) instead of leaving a request behind each time.
Result<crypto::KeyPair> loadOrGenerateKey(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto pem = BERTH_TRY_CTX(readFile(path), path.string());
    if (auto key = crypto::KeyPair::fromPem(pem)) return key;
    kubeletLog()->warn("bootstrap key {} does not parse; generating a new one", path.string());
  }
  auto key = BERTH_TRY(crypto::KeyPair::generate(crypto::KeyAlgorithm::kEcdsaP256));
  BERTH_TRY(makeDirs(path.parent_path(), 0755));
  BERTH_TRY(writeFileAtomic(path, BERTH_TRY(key.privateKeyPem()), 0600));
  return key;
}

// Upstream's writeKubeconfigFromBootstrapping: the bootstrap kubeconfig's server and CA, the
// stored pair as client certificate and key.
Status writeKubeconfig(const std::filesystem::path& path, const kubeapi::RestConfig& bootstrap,
                       const std::filesystem::path& pairPath) {
  kubeapi::Kubeconfig kc;
  kc.clusters["default-cluster"] = {
      .server = bootstrap.host,
      .certificateAuthority = bootstrap.caFile,
      .certificateAuthorityData = bootstrap.caFile.empty() ? bootstrap.caData : std::string(),
      .insecureSkipTlsVerify = bootstrap.insecureSkipTlsVerify,
      .tlsServerName = bootstrap.tlsServerName};
  kc.users["default-auth"] = {.clientCertificate = pairPath.string(),
                              .clientKey = pairPath.string()};
  kc.contexts["default-context"] = {
      .cluster = "default-cluster", .user = "default-auth", .namespace_ = "default"};
  kc.currentContext = "default-context";
  if (path.has_parent_path()) BERTH_TRY(makeDirs(path.parent_path(), 0755));
  return kc.write(path);
}

}  // namespace

Status kubeconfigStillValid(const std::filesystem::path& kubeconfig,
                            std::chrono::system_clock::time_point now) {
  std::error_code ec;
  if (!std::filesystem::exists(kubeconfig, ec))
    return fail(Code::kNotFound, "{} does not exist", kubeconfig.string());
  auto kc = BERTH_TRY(kubeapi::Kubeconfig::load(kubeconfig));
  auto config = BERTH_TRY_CTX(kc.restConfig(), kubeconfig.string());
  std::string pem = config.certData;
  if (pem.empty() && !config.certFile.empty())
    pem = BERTH_TRY_CTX(readFile(config.certFile), config.certFile);
  if (pem.empty()) return {};
  auto certificate = BERTH_TRY_CTX(crypto::Certificate::fromPem(pem), kubeconfig.string());
  if (now > certificate.notAfter()) {
    return fail(Code::kFailedPrecondition, "the client certificate in {} has expired",
                kubeconfig.string());
  }
  return {};
}

Status loadClientCert(const BootstrapOptions& options) {
  auto valid = kubeconfigStillValid(options.kubeconfig);
  if (valid) return {};
  kubeletLog()->info("bootstrapping a client certificate: {}", valid.error().message());

  auto bootstrapKc = BERTH_TRY_CTX(kubeapi::Kubeconfig::load(options.bootstrapKubeconfig),
                                   "--bootstrap-kubeconfig");
  auto bootstrap = BERTH_TRY_CTX(bootstrapKc.restConfig(),
                                 "--bootstrap-kubeconfig " + options.bootstrapKubeconfig.string());
  bootstrap.userAgent = options.userAgent;

  CertificateStore store(options.certDir, kClientPairPrefix);
  // A pair stored earlier that is still good: only the kubeconfig is missing.
  if (auto pair = store.current();
      pair && std::chrono::system_clock::now() < pair->certificate.notAfter()) {
    kubeletLog()->info("using the stored client certificate {}", store.currentPath().string());
    return writeKubeconfig(options.kubeconfig, bootstrap, store.currentPath());
  }

  const auto keyPath = options.certDir / (std::string(kClientPairPrefix) + ".key.tmp");
  auto key = BERTH_TRY(loadOrGenerateKey(keyPath));
  const CsrTemplate tmpl = kubeletClientTemplate(options.nodeName);
  const std::string name = BERTH_TRY(digestedName(key.publicKey(), tmpl));
  auto csr = BERTH_TRY(csrObject(tmpl, key, name));
  auto api = BERTH_TRY_CTX(kubeapi::RestClient::create(bootstrap), "--bootstrap-kubeconfig");
  std::string certPem =
      BERTH_TRY_CTX(requestCertificate(*api, csr, options.waitTimeout), "TLS bootstrap");
  BERTH_TRY(store.update(certPem, BERTH_TRY(key.privateKeyPem())));
  std::error_code ec;
  std::filesystem::remove(keyPath, ec);
  kubeletLog()->info("client certificate for {} stored in {}", tmpl.subject.commonName,
                     store.currentPath().string());
  return writeKubeconfig(options.kubeconfig, bootstrap, store.currentPath());
}

}  // namespace berth::kubelet::certificate
