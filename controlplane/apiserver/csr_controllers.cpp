#include "controlplane/apiserver/csr_controllers.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/base64.h"
#include "controlplane/apiserver/json_fields.h"
#include "controlplane/server_log.h"
#include "controlplane/storage/keys.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::apiserver {
namespace {

constexpr std::chrono::seconds kResync{60};
constexpr std::chrono::seconds kRetry{5};

bool hasCondition(const Json& csr, std::string_view type) {
  const Json& conditions = jsonField(jsonField(csr, "status"), "conditions");
  if (!conditions.is_array()) return false;
  return std::any_of(conditions.begin(), conditions.end(), [&](const Json& c) {
    return jsonString(c, "type") == type && jsonString(c, "status") != "False";
  });
}

std::vector<std::string> stringsOf(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<auth::CertificateRequest> requestOf(const Json& csr) {
  std::string pem =
      BERTH_TRY_CTX(base64Decode(jsonString(jsonField(csr, "spec"), "request")), "spec.request");
  return auth::CertificateRequest::fromPem(pem);
}

// csrapproving's isNodeClientCert: O=system:nodes, CN system:node:<name>, no SANs, and the
// usages of a client certificate.
bool isNodeClientCert(const auth::CertificateRequest& request,
                      const std::vector<std::string>& usages) {
  if (request.organizations() != std::vector<std::string>{"system:nodes"}) return false;
  if (!request.commonName().starts_with("system:node:")) return false;
  if (!request.dnsNames().empty() || !request.ipAddresses().empty() ||
      !request.emailAddresses().empty() || !request.uris().empty()) {
    return false;
  }
  std::vector<std::string> sorted = usages;
  std::sort(sorted.begin(), sorted.end());
  return sorted == std::vector<std::string>{"client auth", "digital signature"} ||
         sorted == std::vector<std::string>{"client auth", "digital signature", "key encipherment"};
}

Json condition(std::string type, std::string reason, std::string message) {
  std::string now = kubeapi::formatTime(kubeapi::now());
  return {{"type", std::move(type)},       {"status", "True"},      {"reason", std::move(reason)},
          {"message", std::move(message)}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
}

}  // namespace

CsrControllers::CsrControllers(Registry& registry, storage::WatchCache& cache,
                               const auth::Authorizer& authorizer,
                               const auth::CertificateAuthority& ca,
                               std::chrono::seconds signingDuration)
    : registry_(registry),
      cache_(cache),
      authorizer_(authorizer),
      ca_(ca),
      signingDuration_(signingDuration),
      loop_(
          cache, storage::resourcePrefix("certificates.k8s.io", "certificatesigningrequests"),
          [this](const std::string& name) { return sync(name); }, kResync, kRetry) {}

bool CsrControllers::sync(const std::string& name) {
  auto cached =
      cache_.get(storage::objectKey("certificates.k8s.io", "certificatesigningrequests", "", name));
  if (!cached) return true;
  const Json& csr = cached->object->json();
  if (hasCondition(csr, "Denied") || hasCondition(csr, "Failed")) return true;
  if (!hasCondition(csr, "Approved")) {
    approve(name, csr);
    return true;
  }
  if (jsonString(jsonField(csr, "status"), "certificate").empty()) sign(name, csr);
  return true;
}

void CsrControllers::approve(const std::string& name, const Json& csr) {
  const Json& spec = jsonField(csr, "spec");
  if (jsonString(spec, "signerName") != auth::kKubeAPIServerClientKubeletSignerName) return;
  auto request = requestOf(csr);
  if (!request || !isNodeClientCert(*request, stringsOf(jsonField(spec, "usages")))) return;

  // Who asked: the requester fields the apiserver set from the creating user.
  auth::Attributes a;
  a.user.name = jsonString(spec, "username");
  a.user.uid = jsonString(spec, "uid");
  a.user.groups = stringsOf(jsonField(spec, "groups"));
  a.verb = "create";
  a.resourceRequest = true;
  a.apiGroup = "certificates.k8s.io";
  a.resource = "certificatesigningrequests";
  // A node renewing its own certificate needs only selfnodeclient.
  bool self = a.user.name == request->commonName();
  a.subresource = self ? "selfnodeclient" : "nodeclient";
  if (authorizer_.authorize(a).decision != auth::Decision::kAllow) return;
  writeStatus(name, [](Json& status) {
    status["conditions"].push_back(
        condition("Approved", "AutoApproved",
                  "Auto approving kubelet client certificate after SubjectAccessReview."));
  });
}

void CsrControllers::sign(const std::string& name, const Json& csr) {
  const Json& spec = jsonField(csr, "spec");
  auto request = requestOf(csr);
  if (!request) {
    writeStatus(name, [&](Json& status) {
      status["conditions"].push_back(
          condition("Failed", "SignerValidationFailure", request.error().message()));
    });
    return;
  }
  auth::CsrSigningOptions options;
  options.signerName = jsonString(spec, "signerName");
  options.usages = stringsOf(jsonField(spec, "usages"));
  if (jsonField(spec, "expirationSeconds").is_number_integer()) {
    options.expirationSeconds = spec["expirationSeconds"].get<std::int64_t>();
  }
  options.clusterSigningDuration = signingDuration_;
  options.now = std::chrono::system_clock::now();
  auto certificate = ca_.signRequest(*request, options);
  if (!certificate) {
    // Another signer's CSR stays pending for that signer.
    if (certificate.error().code() == Code::kUnimplemented) return;
    writeStatus(name, [&](Json& status) {
      status["conditions"].push_back(
          condition("Failed", "SignerValidationFailure", certificate.error().message()));
    });
    return;
  }
  auto pem = certificate->pem();
  if (!pem) {
    serverLogger()->warn("[csr={}] encode certificate: {}", name, pem.error().message());
    return;
  }
  writeStatus(name, [&](Json& status) { status["certificate"] = base64Encode(*pem); });
}

void CsrControllers::writeStatus(const std::string& name,
                                 const std::function<void(Json& status)>& change) {
  ResourceStore* store = registry_.store("certificates.k8s.io", "certificatesigningrequests");
  auto written =
      store->update("", name, "status",
                    [&](const Json* current) -> ApiResult<Json> {
                      if (!current) {
                        return apiFail(kubeapi::notFoundStatus(
                            {"certificates.k8s.io", "certificatesigningrequests"}, name));
                      }
                      Json csr = *current;
                      Json& status = csr["status"];
                      if (!status.is_object()) status = Json::object();
                      if (!status["conditions"].is_array()) status["conditions"] = Json::array();
                      change(status);
                      return csr;
                    },
                    {});
  if (!written && written.error().reason != kubeapi::reason::kNotFound) {
    serverLogger()->warn("[csr={}] write status: {}", name, written.error().message);
  }
}

}  // namespace berth::controlplane::apiserver
