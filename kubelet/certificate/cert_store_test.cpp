#include "kubelet/certificate/cert_store.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "kubelet/certificate/test_certificates.h"

namespace berth::kubelet::certificate {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

mode_t modeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(CertificateStore, UpdateWritesATimestampedPairAndPointsTheCurrentLinkAtIt) {
  berth::testing::TempDir dir;
  CertificateStore store(dir.path() / "pki", kClientPairPrefix);
  EXPECT_EQ(store.current().error().code(), Code::kNotFound);

  const auto now = system_clock::now();
  auto first = testing::makePair("system:node:a", now, now + 1h);
  // 2026-12-07 10:11:12 UTC, as Go formats "2006-01-02-15-04-05".
  const auto at = system_clock::from_time_t(1796638272);
  auto stored = store.update(first.certPem, first.keyPem, at);
  ASSERT_TRUE(stored) << stored.error().message();
  const auto file = dir.path() / "pki" / "kubelet-client-2026-12-07-10-11-12.pem";
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(modeOf(file), 0600u);
  EXPECT_EQ(readFile(file).value(), first.certPem + first.keyPem);
  EXPECT_EQ(std::filesystem::read_symlink(store.currentPath()),
            "kubelet-client-2026-12-07-10-11-12.pem");

  auto second = testing::makePair("system:node:a", now, now + 2h);
  ASSERT_TRUE(store.update(second.certPem, second.keyPem, at + 60s));
  auto current = store.current();
  ASSERT_TRUE(current) << current.error().message();
  EXPECT_EQ(current->certificate.notAfter(),
            crypto::Certificate::fromPem(second.certPem)->notAfter());
  EXPECT_TRUE(current->certificate.matchesKey(current->key));
  EXPECT_TRUE(std::filesystem::exists(file));  // the old pair stays, as upstream leaves it
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pki" / "kubelet-client-updated.pem"));
}

TEST(CertificateStore, AKeyThatDoesNotMatchIsRefused) {
  berth::testing::TempDir dir;
  CertificateStore store(dir.path(), kServerPairPrefix);
  const auto now = system_clock::now();
  auto a = testing::makePair("a", now, now + 1h);
  auto b = testing::makePair("b", now, now + 1h);
  auto stored = store.update(a.certPem, b.keyPem);
  ASSERT_FALSE(stored);
  EXPECT_NE(stored.error().message().find("does not match"), std::string::npos)
      << stored.error().message();
  EXPECT_FALSE(std::filesystem::exists(store.currentPath()));
}

TEST(CertificateStore, TheConfiguredFilesServeUntilThereIsACurrentPair) {
  berth::testing::TempDir dir;
  const auto now = system_clock::now();
  auto configured = testing::makePair("configured", now, now + 1h);
  ASSERT_TRUE(writeFile(dir.path() / "c.crt", configured.certPem));
  ASSERT_TRUE(writeFile(dir.path() / "c.key", configured.keyPem));
  CertificateStore store(dir.path() / "pki", kClientPairPrefix, dir.path() / "c.crt",
                         dir.path() / "c.key");
  ASSERT_TRUE(store.current());
  EXPECT_EQ(store.current()->certificate.commonName(), "configured");

  auto issued = testing::makePair("issued", now, now + 1h);
  ASSERT_TRUE(store.update(issued.certPem, issued.keyPem));
  EXPECT_EQ(store.current()->certificate.commonName(), "issued");
}

TEST(CertificateStore, ABrokenCurrentFileIsNamed) {
  berth::testing::TempDir dir;
  CertificateStore store(dir.path(), kClientPairPrefix);
  ASSERT_TRUE(writeFile(store.currentPath(), "not pem"));
  auto current = store.current();
  ASSERT_FALSE(current);
  EXPECT_NE(current.error().message().find("kubelet-client-current.pem"), std::string::npos)
      << current.error().message();
}

}  // namespace
}  // namespace berth::kubelet::certificate
