#include "controlplane/auth/pki_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/file_util.h"
#include "common/ip.h"
#include "common/scope_guard.h"

namespace berth::controlplane::auth {

namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

bool fileExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::unexpected<Error> failFile(const fs::path& path, const Error& error) {
  return fail(error.code() == Code::kNotFound ? Code::kNotFound : Code::kFailedPrecondition,
              "{}: {}", path.string(), error.message());
}

template <class T>
Result<T> parseFile(const fs::path& path, Result<T> (*parse)(std::string_view)) {
  auto text = readFile(path);
  if (!text) return failFile(path, text.error());
  auto parsed = parse(*text);
  if (!parsed) return failFile(path, parsed.error());
  return parsed;
}

Result<CertificateAuthority> loadCa(const fs::path& certificateFile, const fs::path& keyFile) {
  auto certificate = BERTH_TRY(parseFile<Certificate>(certificateFile, Certificate::fromPem));
  auto key = BERTH_TRY(parseFile<KeyPair>(keyFile, KeyPair::fromPem));
  if (!certificate.isCa()) {
    return fail(Code::kFailedPrecondition, "{}: not a CA certificate", certificateFile.string());
  }
  if (!certificate.matchesKey(key)) {
    return fail(Code::kFailedPrecondition, "{} does not match {}", keyFile.string(),
                certificateFile.string());
  }
  return CertificateAuthority::fromPem(BERTH_TRY(certificate.pem()),
                                       BERTH_TRY(key.privateKeyPem()));
}

Result<KeyPair> loadServiceAccountKey(const fs::path& keyFile, const fs::path& publicKeyFile) {
  auto key = BERTH_TRY(parseFile<KeyPair>(keyFile, KeyPair::fromPem));
  if (key.algorithm() != KeyAlgorithm::kRsa) {
    return fail(Code::kFailedPrecondition, "{}: the service account key must be an RSA key (RS256)",
                keyFile.string());
  }
  auto publicKeys =
      BERTH_TRY(parseFile<std::vector<PublicKey>>(publicKeyFile, PublicKey::allFromPem));
  if (BERTH_TRY(publicKeys.front().der()) != BERTH_TRY(key.publicKey().der())) {
    return fail(Code::kFailedPrecondition, "{} does not match {}", publicKeyFile.string(),
                keyFile.string());
  }
  return key;
}

Status writeKeyAndCertificate(const fs::path& keyFile, const fs::path& certificateFile,
                              const KeyPair& key, const Certificate& certificate) {
  BERTH_TRY(writeFileAtomic(keyFile, BERTH_TRY(key.privateKeyPem()), 0600));
  return writeFileAtomic(certificateFile, BERTH_TRY(certificate.pem()), 0644);
}

// The roots of a new PKI, written into `dir` (a fresh temporary directory).
Status createRoots(const fs::path& dir, const PkiOptions& options) {
  auto caKey = BERTH_TRY(KeyPair::generate(KeyAlgorithm::kEcdsaP256));
  const std::string commonName =
      fmt::format("{}@{}", options.caCommonName, system_clock::to_time_t(options.now));
  auto ca = BERTH_TRY(CertificateAuthority::create(commonName, caKey, options.now));
  BERTH_TRY(writeKeyAndCertificate(dir / "ca.key", dir / "ca.crt", ca.key(), ca.certificate()));
  auto saKey = BERTH_TRY(KeyPair::generate(KeyAlgorithm::kRsa, 2048));
  BERTH_TRY(writeFileAtomic(dir / "sa.key", BERTH_TRY(saKey.privateKeyPem()), 0600));
  return writeFileAtomic(dir / "sa.pub", BERTH_TRY(saKey.publicKey().pem()), 0644);
}

// Creates the roots in a sibling directory and renames it to `dir`, so that `dir` either holds a
// whole set of roots or does not exist (or is empty).
Status createFresh(const fs::path& dir, const PkiOptions& options) {
  BERTH_TRY(makeDirs(dir.parent_path(), 0755));
  const fs::path tmp =
      dir.parent_path() / fmt::format(".{}.tmp-{}", dir.filename().string(), ::getpid());
  BERTH_TRY(removeAll(tmp));
  if (::mkdir(tmp.c_str(), 0700) < 0) return failErrno(fmt::format("mkdir {}", tmp.string()));
  auto cleanup = defer([&] { (void)removeAll(tmp); });
  BERTH_TRY_CTX(createRoots(tmp, options), fmt::format("create PKI in {}", tmp.string()));
  if (fileExists(dir) && ::rmdir(dir.c_str()) < 0) {
    return failErrno(fmt::format("replace empty {}", dir.string()));
  }
  if (::rename(tmp.c_str(), dir.c_str()) < 0) {
    return failErrno(fmt::format("rename {} to {}", tmp.string(), dir.string()));
  }
  cleanup.cancel();
  auto parent = openFd(dir.parent_path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent) ::fsync(parent->get());
  return {};
}

bool dirHasEntries(const fs::path& dir) {
  std::error_code ec;
  return fileExists(dir) && !fs::is_empty(dir, ec);
}

std::string canonicalIp(const std::string& text) {
  auto ip = IpAddr::parse(text);
  return ip ? ip->str() : text;
}

struct LeafSpec {
  fs::path keyFile;
  fs::path certificateFile;
  CertificateTemplate tmpl;  // without validity
};

bool containsAll(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  return std::all_of(want.begin(), want.end(), [&](const std::string& value) {
    return std::find(have.begin(), have.end(), value) != have.end();
  });
}

// Whether an existing leaf can be kept (false: issue a new one); errors for a broken pair.
Result<bool> leafIsCurrent(const LeafSpec& leaf, const CertificateAuthority& ca,
                           const PkiOptions& options) {
  const bool haveKey = fileExists(leaf.keyFile);
  const bool haveCertificate = fileExists(leaf.certificateFile);
  if (!haveKey && !haveCertificate) return false;
  if (!haveKey || !haveCertificate) {
    const fs::path& missing = haveKey ? leaf.certificateFile : leaf.keyFile;
    const fs::path& present = haveKey ? leaf.keyFile : leaf.certificateFile;
    return fail(Code::kFailedPrecondition, "{} is missing ({} exists)", missing.string(),
                present.string());
  }
  auto certificate = BERTH_TRY(parseFile<Certificate>(leaf.certificateFile, Certificate::fromPem));
  auto key = BERTH_TRY(parseFile<KeyPair>(leaf.keyFile, KeyPair::fromPem));
  if (!certificate.matchesKey(key)) {
    return fail(Code::kFailedPrecondition, "{} does not match {}", leaf.keyFile.string(),
                leaf.certificateFile.string());
  }
  if (!certificate.issuedBy(ca.certificate())) {
    return fail(Code::kFailedPrecondition, "{} is not signed by the cluster CA",
                leaf.certificateFile.string());
  }
  if (certificate.notAfter() - options.now < options.renewBefore) return false;
  std::vector<std::string> wantIps;
  for (const auto& ip : leaf.tmpl.ipAddresses)
    wantIps.push_back(canonicalIp(ip));
  return certificate.commonName() == leaf.tmpl.commonName &&
         certificate.organizations() == leaf.tmpl.organizations &&
         containsAll(certificate.dnsNames(), leaf.tmpl.dnsNames) &&
         containsAll(certificate.ipAddresses(), wantIps);
}

Status issueLeaf(const LeafSpec& leaf, const CertificateAuthority& ca, const PkiOptions& options) {
  auto key = BERTH_TRY(KeyPair::generate(KeyAlgorithm::kEcdsaP256));
  CertificateTemplate tmpl = leaf.tmpl;
  tmpl.notBefore = options.now;
  tmpl.notAfter = options.now + options.leafValidity;
  auto certificate = BERTH_TRY_CTX(ca.issue(tmpl, key.publicKey()),
                                   fmt::format("issue {}", leaf.certificateFile.string()));
  return writeKeyAndCertificate(leaf.keyFile, leaf.certificateFile, key, certificate);
}

std::vector<LeafSpec> leafSpecs(const fs::path& dir, const PkiOptions& options) {
  std::vector<LeafSpec> leaves;
  LeafSpec serving{dir / "apiserver.key", dir / "apiserver.crt", {}};
  serving.tmpl.commonName = options.servingCommonName;
  serving.tmpl.dnsNames = options.servingDnsNames;
  serving.tmpl.ipAddresses = options.servingIpAddresses;
  serving.tmpl.usages = {"digital signature", "key encipherment", "server auth"};
  leaves.push_back(std::move(serving));
  for (const auto& client : options.clients) {
    LeafSpec leaf{dir / (client.name + ".key"), dir / (client.name + ".crt"), {}};
    leaf.tmpl.commonName = client.commonName;
    leaf.tmpl.organizations = client.organizations;
    leaf.tmpl.usages = {"digital signature", "key encipherment", "client auth"};
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

}  // namespace

std::vector<std::string> defaultServingDnsNames(std::string_view clusterDomain) {
  return {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
          fmt::format("kubernetes.default.svc.{}", clusterDomain)};
}

Result<ClusterPki> loadOrCreatePki(const fs::path& dir, const PkiOptions& options) {
  for (const auto& client : options.clients) {
    if (client.name.empty() || client.name.find('/') != std::string::npos || client.name == "ca" ||
        client.name == "apiserver" || client.name == "sa") {
      return fail(Code::kInvalidArgument,
                  "client certificate name \"{}\" is not a usable file stem", client.name);
    }
  }
  const std::vector<fs::path> roots = {dir / "ca.crt", dir / "ca.key", dir / "sa.key",
                                       dir / "sa.pub"};
  const bool anyRoot = std::any_of(roots.begin(), roots.end(), fileExists);
  if (!anyRoot) {
    if (dirHasEntries(dir)) {
      return fail(Code::kFailedPrecondition,
                  "{} is missing but {} holds other files: not creating a new CA over them",
                  roots.front().string(), dir.string());
    }
    BERTH_TRY(createFresh(dir, options));
  }
  for (const auto& root : roots) {
    if (!fileExists(root)) {
      return fail(Code::kFailedPrecondition,
                  "{} is missing: the PKI in {} is incomplete (restore the file, or remove the "
                  "directory to start a new cluster)",
                  root.string(), dir.string());
    }
  }
  ClusterPki pki{dir, BERTH_TRY(loadCa(dir / "ca.crt", dir / "ca.key")),
                 BERTH_TRY(loadServiceAccountKey(dir / "sa.key", dir / "sa.pub"))};
  for (const auto& leaf : leafSpecs(dir, options)) {
    if (!BERTH_TRY(leafIsCurrent(leaf, pki.ca, options)))
      BERTH_TRY(issueLeaf(leaf, pki.ca, options));
  }
  return pki;
}

}  // namespace berth::controlplane::auth
