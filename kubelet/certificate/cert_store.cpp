#include "kubelet/certificate/cert_store.h"

#include <ctime>

#include <fmt/format.h>

#include "common/file_util.h"

namespace berth::kubelet::certificate {
namespace {

std::string goTimestamp(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H-%M-%S", &tm);
  return buf;
}

}  // namespace

Result<CertificatePair> parsePair(std::string certPem, std::string keyPem) {
  auto certificate = BERTH_TRY(crypto::Certificate::fromPem(certPem));
  auto key = BERTH_TRY(crypto::KeyPair::fromPem(keyPem));
  if (!certificate.matchesKey(key))
    return fail(Code::kInvalidArgument, "the private key does not match the certificate");
  return CertificatePair{std::move(certificate), std::move(key), std::move(certPem),
                         std::move(keyPem)};
}

CertificateStore::CertificateStore(std::filesystem::path dir, std::string_view pairPrefix,
                                   std::filesystem::path certFile, std::filesystem::path keyFile)
    : dir_(std::move(dir)),
      prefix_(pairPrefix),
      certFile_(std::move(certFile)),
      keyFile_(std::move(keyFile)) {}

std::filesystem::path CertificateStore::currentPath() const {
  return dir_ / (prefix_ + "-current.pem");
}

Result<CertificatePair> CertificateStore::current() const {
  const auto path = currentPath();
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    // One file holds both, as the current link points at certificate + key.
    std::string pem = BERTH_TRY_CTX(readFile(path), path.string());
    return BERTH_TRY_CTX(parsePair(pem, pem), path.string());
  }
  if (!certFile_.empty() && !keyFile_.empty() && std::filesystem::exists(certFile_, ec) &&
      std::filesystem::exists(keyFile_, ec)) {
    std::string certPem = BERTH_TRY_CTX(readFile(certFile_), certFile_.string());
    std::string keyPem = BERTH_TRY_CTX(readFile(keyFile_), keyFile_.string());
    return BERTH_TRY_CTX(parsePair(std::move(certPem), std::move(keyPem)), certFile_.string());
  }
  return fail(Code::kNotFound, "no {} certificate in {}", prefix_, dir_.string());
}

Result<CertificatePair> CertificateStore::update(std::string_view certPem, std::string_view keyPem,
                                                 std::chrono::system_clock::time_point now) {
  std::string pem = std::string(certPem);
  if (!pem.empty() && pem.back() != '\n') pem += '\n';
  pem += keyPem;
  auto pair = BERTH_TRY_CTX(parsePair(pem, pem), "new " + prefix_ + " certificate");
  BERTH_TRY(makeDirs(dir_, 0755));
  const std::string name = fmt::format("{}-{}.pem", prefix_, goTimestamp(now));
  BERTH_TRY(writeFileAtomic(dir_ / name, pem, 0600));
  // Relative, as FileStore links it, so the directory can move.
  const auto updated = dir_ / (prefix_ + "-updated.pem");
  std::error_code ec;
  std::filesystem::remove(updated, ec);
  std::filesystem::create_symlink(name, updated, ec);
  if (ec) return fail(Code::kInternal, "symlink {}: {}", updated.string(), ec.message());
  std::filesystem::rename(updated, currentPath(), ec);
  if (ec) return fail(Code::kInternal, "rename {}: {}", currentPath().string(), ec.message());
  return pair;
}

}  // namespace berth::kubelet::certificate
