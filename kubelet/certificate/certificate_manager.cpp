#include "kubelet/certificate/certificate_manager.h"

#include <algorithm>
#include <set>

#include <fmt/chrono.h>

#include "kubeapi/rest_client.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet::certificate {
namespace {

bool includesAll(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  std::set<std::string> haveSet(have.begin(), have.end());
  return std::all_of(want.begin(), want.end(),
                     [&](const std::string& w) { return haveSet.contains(w); });
}

}  // namespace

std::chrono::system_clock::time_point rotationDeadline(
    std::chrono::system_clock::time_point notBefore, std::chrono::system_clock::time_point notAfter,
    double jitter) {
  const std::chrono::duration<double, std::chrono::system_clock::period> total =
      notAfter - notBefore;
  return notBefore + std::chrono::round<std::chrono::system_clock::duration>(
                         total * (0.7 + 0.2 * std::clamp(jitter, 0.0, 1.0)));
}

bool satisfiesTemplate(const crypto::Certificate& certificate, const CsrTemplate& tmpl) {
  return certificate.commonName() == tmpl.subject.commonName &&
         includesAll(certificate.organizations(), tmpl.subject.organizations) &&
         includesAll(certificate.dnsNames(), tmpl.subject.dnsNames) &&
         includesAll(certificate.ipAddresses(), tmpl.subject.ipAddresses);
}

CertificateManager::CertificateManager(CertificateStore store, CertificateManagerOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (auto pair = store_.current()) {
    current_ = std::move(*pair);
  } else if (pair.error().code() != Code::kNotFound) {
    kubeletLog()->warn("[{}] current certificate: {}", options_.name, pair.error().message());
  }
}

CertificateManager::~CertificateManager() {
  stop();
}

void CertificateManager::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

void CertificateManager::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

std::optional<CertificatePair> CertificateManager::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

bool CertificateManager::sleepUntil(std::chrono::system_clock::time_point until,
                                    const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  return !wake_.wait_until(lock, stop, until, [] { return false; }) && !stop.stop_requested();
}

void CertificateManager::run(std::stop_token stop) {
  auto backoff = options_.initialBackoff;
  while (!stop.stop_requested()) {
    std::chrono::system_clock::time_point deadline = std::chrono::system_clock::now();
    if (auto pair = current(); pair && satisfiesTemplate(pair->certificate, options_.csrTemplate)) {
      const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
      deadline =
          rotationDeadline(pair->certificate.notBefore(), pair->certificate.notAfter(), jitter);
      kubeletLog()->info("[{}] certificate expires {:%FT%TZ}, rotation deadline {:%FT%TZ}",
                         options_.name,
                         std::chrono::floor<std::chrono::seconds>(pair->certificate.notAfter()),
                         std::chrono::floor<std::chrono::seconds>(deadline));
    }
    if (!sleepUntil(deadline, stop)) return;
    auto rotated = rotate(stop);
    if (rotated) {
      backoff = options_.initialBackoff;
      continue;
    }
    if (stop.stop_requested()) return;
    kubeletLog()->warn("[{}] certificate rotation: {} (retrying in {}s)", options_.name,
                       rotated.error().message(),
                       std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    if (!sleepUntil(std::chrono::system_clock::now() + backoff, stop)) return;
    backoff = std::min(backoff * 2, options_.maxBackoff);
  }
}

Result<CertificatePair> CertificateManager::rotate(std::stop_token stop) {
  kubeletLog()->info("[{}] rotating certificates", options_.name);
  auto key = BERTH_TRY(crypto::KeyPair::generate(crypto::KeyAlgorithm::kEcdsaP256));
  std::string keyPem = BERTH_TRY(key.privateKeyPem());
  auto csr = BERTH_TRY(csrObject(options_.csrTemplate, key));
  std::string certPem = BERTH_TRY(
      requestCertificate(*options_.api, csr, options_.certificateWaitTimeout, std::move(stop)));
  auto pair = BERTH_TRY(store_.update(certPem, keyPem));
  {
    std::lock_guard lock(mu_);
    current_ = pair;
  }
  kubeletLog()->info("[{}] new certificate stored in {}", options_.name,
                     store_.currentPath().string());
  if (options_.onRotated) options_.onRotated(pair);
  return pair;
}

}  // namespace berth::kubelet::certificate
