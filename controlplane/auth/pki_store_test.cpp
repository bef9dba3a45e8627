#include "controlplane/auth/pki_store.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::controlplane::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::system_clock;

PkiOptions testOptions() {
  PkiOptions options;
  options.servingDnsNames = defaultServingDnsNames();
  options.servingDnsNames.push_back("node-1");
  options.servingIpAddresses = {"127.0.0.1", "10.96.0.1"};
  options.clients = {{"admin", "system:admin", {"system:masters"}},
                     {"apiserver-kubelet-client", "kube-apiserver-kubelet-client", {}}};
  options.now = system_clock::from_time_t(system_clock::to_time_t(system_clock::now()));
  return options;
}

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string contents(const fs::path& path) {
  return readFile(path).value_or("");
}

TEST(PkiStore, CreatesTheWholeSetWithPrivateKeys) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "pki";
  auto pki = loadOrCreatePki(dir, testOptions());
  ASSERT_TRUE(pki) << pki.error().message();
  EXPECT_EQ(modeOf(dir), 0700u);
  for (const char* key :
       {"ca.key", "apiserver.key", "sa.key", "admin.key", "apiserver-kubelet-client.key"}) {
    EXPECT_EQ(modeOf(dir / key), 0600u) << key;
  }
  for (const char* cert : {"ca.crt", "apiserver.crt", "sa.pub", "admin.crt"}) {
    EXPECT_EQ(modeOf(dir / cert), 0644u) << cert;
  }
  EXPECT_TRUE(pki->ca.certificate().commonName().starts_with("berth-ca@"));
  EXPECT_EQ(pki->serviceAccountKey.algorithm(), KeyAlgorithm::kRsa);
  auto serving = Certificate::fromPem(contents(pki->servingCertificateFile()));
  ASSERT_TRUE(serving);
  EXPECT_TRUE(serving->issuedBy(pki->ca.certificate()));
  EXPECT_EQ(serving->dnsNames(),
            (std::vector<std::string>{"localhost", "kubernetes", "kubernetes.default",
                                      "kubernetes.default.svc",
                                      "kubernetes.default.svc.cluster.local", "node-1"}));
  EXPECT_EQ(serving->ipAddresses(), (std::vector<std::string>{"127.0.0.1", "10.96.0.1"}));
  auto admin = Certificate::fromPem(contents(pki->clientCertificateFile("admin")));
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->commonName(), "system:admin");
  EXPECT_EQ(admin->organizations(), std::vector<std::string>{"system:masters"});
  EXPECT_TRUE(admin->allowsExtendedUsage("client auth"));
  // Nothing of the temporary directory is left beside it.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(tmp.path()))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(PkiStore, ARestartReusesEverything) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "pki";
  ASSERT_TRUE(loadOrCreatePki(dir, testOptions()));
  std::map<std::string, std::string> before;
  for (const auto& entry : fs::directory_iterator(dir)) {
    before[entry.path().filename()] = contents(entry.path());
  }
  auto again = loadOrCreatePki(dir, testOptions());
  ASSERT_TRUE(again) << again.error().message();
  for (const auto& [name, text] : before)
    EXPECT_EQ(contents(dir / name), text) << name;
  EXPECT_EQ(*again->ca.certificate().pem(), before["ca.crt"]);
}

TEST(PkiStore, ReissuesLeavesForNewNamesAndNearExpiryButKeepsTheRoots) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "pki";
  auto options = testOptions();
  ASSERT_TRUE(loadOrCreatePki(dir, options));
  const std::string ca = contents(dir / "ca.crt");
  const std::string sa = contents(dir / "sa.key");
  const std::string serving = contents(dir / "apiserver.crt");
  const std::string admin = contents(dir / "admin.crt");

  options.servingIpAddresses.push_back("192.168.1.20");  // the node got a new address
  ASSERT_TRUE(loadOrCreatePki(dir, options));
  EXPECT_NE(contents(dir / "apiserver.crt"), serving);
  EXPECT_EQ(contents(dir / "admin.crt"), admin);
  auto reissued = Certificate::fromPem(contents(dir / "apiserver.crt"));
  EXPECT_EQ(reissued->ipAddresses().back(), "192.168.1.20");

  options.now += hours(24 * 300);  // within 90 days of the leaves' expiry
  ASSERT_TRUE(loadOrCreatePki(dir, options));
  EXPECT_NE(contents(dir / "admin.crt"), admin);
  EXPECT_EQ(contents(dir / "ca.crt"), ca);
  EXPECT_EQ(contents(dir / "sa.key"), sa);

  ASSERT_TRUE(removeAll(dir / "admin.crt"));
  ASSERT_TRUE(removeAll(dir / "admin.key"));
  ASSERT_TRUE(loadOrCreatePki(dir, options));  // a removed pair is issued again
  EXPECT_TRUE(fs::exists(dir / "admin.crt"));
}

TEST(PkiStore, APartialOrCorruptSetNamesTheFile) {
  struct Case {
    const char* name;
    std::function<void(const fs::path&)> damage;
    std::string error;  // with <dir> for the directory
  };
  const std::vector<Case> cases = {
      {"CA key gone", [](const fs::path& d) { (void)removeAll(d / "ca.key"); },
       "<dir>/ca.key is missing: the PKI in <dir> is incomplete (restore the file, or remove the "
       "directory to start a new cluster)"},
      {"service account public key gone", [](const fs::path& d) { (void)removeAll(d / "sa.pub"); },
       "<dir>/sa.pub is missing: the PKI in <dir> is incomplete (restore the file, or remove the "
       "directory to start a new cluster)"},
      {"serving certificate gone", [](const fs::path& d) { (void)removeAll(d / "apiserver.crt"); },
       "<dir>/apiserver.crt is missing (<dir>/apiserver.key exists)"},
      {"serving certificate garbage",
       [](const fs::path& d) { (void)writeFile(d / "apiserver.crt", "garbage"); },
       "<dir>/apiserver.crt: no valid CERTIFICATE in PEM data"},
      {"CA certificate of another key",
       [](const fs::path& d) { (void)writeFile(d / "ca.crt", contents(d / "admin.crt")); },
       "<dir>/ca.crt: not a CA certificate"},
      {"keys swapped",
       [](const fs::path& d) { (void)writeFile(d / "admin.key", contents(d / "apiserver.key")); },
       "<dir>/admin.key does not match <dir>/admin.crt"},
      {"service account key pair mismatch",
       [](const fs::path& d) {
         auto other = KeyPair::generate(KeyAlgorithm::kRsa);
         (void)writeFile(d / "sa.pub", *other->publicKey().pem());
       },
       "<dir>/sa.pub does not match <dir>/sa.key"},
      {"ECDSA service account key",
       [](const fs::path& d) { (void)writeFile(d / "sa.key", contents(d / "ca.key")); },
       "<dir>/sa.key: the service account key must be an RSA key (RS256)"},
  };
  for (const auto& c : cases) {
    testing::TempDir tmp;
    const fs::path dir = tmp.path() / "pki";
    ASSERT_TRUE(loadOrCreatePki(dir, testOptions()));
    c.damage(dir);
    auto pki = loadOrCreatePki(dir, testOptions());
    ASSERT_FALSE(pki) << c.name;
    std::string want = c.error;
    for (auto at = want.find("<dir>"); at != std::string::npos; at = want.find("<dir>")) {
      want.replace(at, 5, dir.string());
    }
    EXPECT_EQ(pki.error().message(), want) << c.name;
  }
}

TEST(PkiStore, RefusesANewCaOverOtherFiles) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "pki";
  ASSERT_TRUE(makeDirs(dir));
  ASSERT_TRUE(writeFile(dir / "apiserver.crt", "left over"));
  auto pki = loadOrCreatePki(dir, testOptions());
  ASSERT_FALSE(pki);
  EXPECT_EQ(pki.error().message(), (dir / "ca.crt").string() + " is missing but " + dir.string() +
                                       " holds other files: not creating a new CA over them");
  // An empty directory is fine.
  const fs::path empty = tmp.path() / "empty";
  ASSERT_TRUE(makeDirs(empty));
  EXPECT_TRUE(loadOrCreatePki(empty, testOptions()));
}

}  // namespace
}  // namespace berth::controlplane::auth
