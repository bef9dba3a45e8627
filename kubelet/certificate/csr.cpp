#include "kubelet/certificate/csr.h"

#include <openssl/evp.h>

#include <thread>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/crypto/base64url.h"
#include "kubeapi/group_version.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet::certificate {
namespace {

const kubeapi::GroupVersionResource kCsrs{"certificates.k8s.io", "v1",
                                          "certificatesigningrequests"};

std::string stringOf(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One state of the CSR, or nullopt to keep waiting.
using Outcome = std::optional<Result<std::string>>;

Outcome outcomeOf(const nlohmann::json& csr) {
  auto issued = issuedCertificate(csr);
  if (!issued) return std::unexpected(issued.error());
  if (*issued) return std::move(**issued);
  return std::nullopt;
}

}  // namespace

CsrTemplate kubeletClientTemplate(std::string_view nodeName) {
  CsrTemplate t;
  t.signerName = kKubeletClientSignerName;
  t.subject.commonName = fmt::format("system:node:{}", nodeName);
  t.subject.organizations = {"system:nodes"};
  t.usages = {"digital signature", "client auth"};
  return t;
}

CsrTemplate kubeletServingTemplate(std::string_view nodeName,
                                   const std::vector<std::string>& hostnames,
                                   const std::vector<std::string>& ips) {
  CsrTemplate t;
  t.signerName = kKubeletServingSignerName;
  t.subject.commonName = fmt::format("system:node:{}", nodeName);
  t.subject.organizations = {"system:nodes"};
  t.subject.dnsNames = hostnames;
  t.subject.ipAddresses = ips;
  t.usages = {"digital signature", "server auth"};
  return t;
}

Result<std::string> digestedName(const crypto::PublicKey& key, const CsrTemplate& tmpl) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512_256(), nullptr) != 1)
    return fail(Code::kInternal, "SHA-512/256 is not available");
  // Each part base64url-encoded and ended by '|', a byte outside that alphabet, so that
  // different parts can't run into each other ("CN:foo,O:bar" vs "CN:foob,O:ar").
  auto write = [&](std::string_view data) {
    std::string part = crypto::base64UrlEncode(data) + "|";
    EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  };
  write(BERTH_TRY(key.der()));
  write(tmpl.subject.commonName);
  for (const auto& o : tmpl.subject.organizations)
    write(o);
  for (const auto& u : tmpl.usages)
    write(u);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    return fail(Code::kInternal, "SHA-512/256 digest");
  return "node-csr-" +
         crypto::base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), length));
}

Result<nlohmann::json> csrObject(const CsrTemplate& tmpl, const crypto::KeyPair& key,
                                 std::string_view name) {
  auto request = BERTH_TRY(crypto::CertificateRequest::create(key, tmpl.subject));
  std::string pem = BERTH_TRY(request.pem());
  nlohmann::json metadata = nlohmann::json::object();
  if (name.empty()) {
    metadata["generateName"] = "csr-";
  } else {
    metadata["name"] = name;
  }
  return nlohmann::json{
      {"apiVersion", "certificates.k8s.io/v1"},
      {"kind", "CertificateSigningRequest"},
      {"metadata", std::move(metadata)},
      {"spec",
       {{"request", base64Encode(pem)}, {"signerName", tmpl.signerName}, {"usages", tmpl.usages}}}};
}

Result<std::optional<std::string>> issuedCertificate(const nlohmann::json& csr) {
  const auto status = csr.value("status", nlohmann::json::object());
  bool approved = false;
  for (const auto& c : status.value("conditions", nlohmann::json::array())) {
    const std::string type = stringOf(c, "type");
    if (stringOf(c, "status") == "False") continue;
    if (type == "Denied") {
      return fail(Code::kPermissionDenied,
                  "certificate signing request is denied, reason: {}, message: {}",
                  stringOf(c, "reason"), stringOf(c, "message"));
    }
    if (type == "Failed") {
      return fail(Code::kFailedPrecondition,
                  "certificate signing request failed, reason: {}, message: {}",
                  stringOf(c, "reason"), stringOf(c, "message"));
    }
    if (type == "Approved") approved = true;
  }
  const std::string certificate = stringOf(status, "certificate");
  if (!approved || certificate.empty()) return std::optional<std::string>();
  auto pem = BERTH_TRY_CTX(base64Decode(certificate), "status.certificate");
  return std::optional<std::string>(std::move(pem));
}

Result<std::string> requestCertificate(kubeapi::RestClient& api, const nlohmann::json& csr,
                                       std::chrono::milliseconds timeout, std::stop_token stop) {
  auto csrs = api.resource(kCsrs, /*namespaced=*/false);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto timedOut = [&] { return std::chrono::steady_clock::now() >= deadline; };
  // The server may not answer yet (a node booting with its control plane): wait for it, as
  // upstream's bootstrap waits for the server first.
  auto created = csrs.create(csr);
  while (!created && created.error().code() == Code::kUnavailable && !stop.stop_requested() &&
         !timedOut()) {
    kubeletLog()->info("waiting for the API server: {}", created.error().message());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    created = csrs.create(csr);
  }
  nlohmann::json current;
  if (created) {
    current = std::move(*created);
  } else if (created.error().isAlreadyExists()) {
    // A restarted bootstrap with the same key: its request is still there.
    const std::string name = csr["metadata"].value("name", "");
    auto existing = csrs.get(name);
    if (!existing) return fail(existing.error().code(), "{}", existing.error().message());
    if ((*existing)["spec"].value("request", "") != csr["spec"].value("request", "")) {
      return fail(Code::kAlreadyExists,
                  "certificate signing request {} exists with a different request", name);
    }
    current = std::move(*existing);
  } else {
    return fail(created.error().code(), "create certificate signing request: {}",
                created.error().message());
  }
  const std::string name = current["metadata"].value("name", "");
  kubeletLog()->info("certificate signing request {} created [signer={}]", name,
                     csr["spec"].value("signerName", ""));

  const std::string selector = "metadata.name=" + name;
  while (true) {
    if (auto outcome = outcomeOf(current)) return std::move(*outcome);
    if (stop.stop_requested()) return fail(Code::kCancelled, "stopped");
    if (timedOut()) {
      return fail(Code::kDeadlineExceeded,
                  "timed out waiting for certificate signing request {} to be issued", name);
    }
    // Watch from the version we saw; each event is the CSR's new state.
    auto watcher =
        csrs.watch({.fieldSelector = selector,
                    .resourceVersion = current["metadata"].value("resourceVersion", "")});
    if (!watcher) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // the server is back soon or never
    } else {
      while (!stop.stop_requested() && !timedOut()) {
        auto next = (*watcher)->next(std::chrono::seconds(1));
        if (next.kind == kubeapi::WatchNext::Kind::kClosed) break;
        if (next.kind != kubeapi::WatchNext::Kind::kEvent) continue;
        if (next.event.type == kubeapi::WatchEvent::Type::kDeleted)
          return fail(Code::kNotFound, "certificate signing request {} was deleted", name);
        if (next.event.type == kubeapi::WatchEvent::Type::kError) break;
        if (next.event.type == kubeapi::WatchEvent::Type::kBookmark) continue;
        current = std::move(next.event.object);
        if (auto outcome = outcomeOf(current)) return std::move(*outcome);
      }
      (*watcher)->stop();
    }
    // A watch that ended (server timeout, expired version): start again from a fresh read.
    if (auto fresh = csrs.get(name)) {
      current = std::move(*fresh);
    } else if (fresh.error().isNotFound()) {
      return fail(Code::kNotFound, "certificate signing request {} was deleted", name);
    }
  }
}

}  // namespace berth::kubelet::certificate
