#pragma once
// A certificate that renews itself (client-go's util/certificate Manager, as the kubelet runs
// one for its client certificate with rotateCertificates and one for its serving certificate
// with serverTLSBootstrap): a thread sleeps until the rotation deadline, a jittered 70-90% of
// the current certificate's lifetime, then asks for a new one with a new ECDSA P-256 key through
// a CSR, waits until it is issued, stores it (cert_store.h) and tells its user. A missing
// certificate, or one that lacks what the template asks (CN, organizations, SANs), is requested
// at once. Failures are retried with a backoff; the current pair stays in use meanwhile.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "common/result.h"
#include "kubelet/certificate/cert_store.h"
#include "kubelet/certificate/csr.h"

namespace berth::kubeapi {
class RestClient;
}

namespace berth::kubelet::certificate {

// notBefore + (0.7 + 0.2 * jitter) * lifetime, `jitter` in [0, 1) (upstream's jitteryDuration:
// wait.Jitter(total, 0.2) - 0.3 * total).
std::chrono::system_clock::time_point rotationDeadline(
    std::chrono::system_clock::time_point notBefore, std::chrono::system_clock::time_point notAfter,
    double jitter);

// Whether the certificate says all the template asks for (extra names are fine), as upstream's
// certSatisfiesTemplate.
bool satisfiesTemplate(const crypto::Certificate& certificate, const CsrTemplate& tmpl);

struct CertificateManagerOptions {
  std::string name;  // for logs: "kubelet-client", "kubelet-server"
  CsrTemplate csrTemplate;
  // The client that creates and watches the CSRs (the kubelet's own).
  std::shared_ptr<kubeapi::RestClient> api;
  // Called on the manager's thread with each newly stored pair.
  std::function<void(const CertificatePair&)> onRotated;
  // How long one CSR may wait for approval and signing (upstream: 15 minutes).
  std::chrono::milliseconds certificateWaitTimeout = std::chrono::minutes(15);
  std::chrono::milliseconds initialBackoff = std::chrono::seconds(2);
  std::chrono::milliseconds maxBackoff = std::chrono::minutes(2);
};

class CertificateManager {
 public:
  CertificateManager(CertificateStore store, CertificateManagerOptions options);
  ~CertificateManager();  // stop()

  void start();
  void stop();
  // The pair in use, if any.
  std::optional<CertificatePair> current() const;

 private:
  void run(std::stop_token stop);
  // One rotation: key, CSR, wait, store. The new pair, or why not.
  [[nodiscard]] Result<CertificatePair> rotate(std::stop_token stop);
  // Sleeps until `until` or a stop; false when stopped.
  bool sleepUntil(std::chrono::system_clock::time_point until, const std::stop_token& stop);

  CertificateStore store_;
  CertificateManagerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  std::optional<CertificatePair> current_;
  std::mt19937_64 random_{std::random_device{}()};
  std::jthread thread_;
};

}  // namespace berth::kubelet::certificate
