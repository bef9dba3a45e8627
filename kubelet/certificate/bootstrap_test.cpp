#include "kubelet/certificate/bootstrap.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "kubeapi/kubeconfig.h"
#include "kubelet/certificate/test_certificates.h"

namespace berth::kubelet::certificate {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

class KubeconfigStillValid : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& certPem, const std::string& keyPem) {
    auto kc = kubeapi::Kubeconfig::embedded("k", "https://127.0.0.1:6443", "", certPem, keyPem);
    auto path = dir_.path() / "kubelet.kubeconfig";
    EXPECT_TRUE(kc.write(path));
    return path;
  }
  berth::testing::TempDir dir_;
};

TEST_F(KubeconfigStillValid, AMissingFileIsNotFound) {
  auto st = kubeconfigStillValid(dir_.path() / "absent");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Code::kNotFound);
}

TEST_F(KubeconfigStillValid, ACurrentCertificateIsValidAnExpiredOneIsNot) {
  const auto now = system_clock::now();
  auto pair = testing::makePair("system:node:n", now - 2h, now + 1h);
  auto path = write(pair.certPem, pair.keyPem);
  EXPECT_TRUE(kubeconfigStillValid(path, now));
  auto later = kubeconfigStillValid(path, now + 2h);
  ASSERT_FALSE(later);
  EXPECT_NE(later.error().message().find("has expired"), std::string::npos);
  EXPECT_NE(later.error().message().find(path.string()), std::string::npos);
}

TEST_F(KubeconfigStillValid, ACertificateInAFileCountsToo) {
  const auto now = system_clock::now();
  auto pair = testing::makePair("system:node:n", now - 2h, now - 1h);
  ASSERT_TRUE(writeFile(dir_.path() / "pair.pem", pair.certPem + pair.keyPem));
  kubeapi::Kubeconfig kc;
  kc.clusters["c"] = {.server = "https://127.0.0.1:6443"};
  kc.users["u"] = {.clientCertificate = (dir_.path() / "pair.pem").string(),
                   .clientKey = (dir_.path() / "pair.pem").string()};
  kc.contexts["x"] = {.cluster = "c", .user = "u"};
  kc.currentContext = "x";
  ASSERT_TRUE(kc.write(dir_.path() / "file.kubeconfig"));
  EXPECT_FALSE(kubeconfigStillValid(dir_.path() / "file.kubeconfig", now));
}

TEST_F(KubeconfigStillValid, ATokenKubeconfigIsValid) {
  kubeapi::Kubeconfig kc;
  kc.clusters["c"] = {.server = "https://127.0.0.1:6443"};
  kc.users["u"] = {.token = "abcdef.0123456789abcdef"};
  kc.contexts["x"] = {.cluster = "c", .user = "u"};
  kc.currentContext = "x";
  ASSERT_TRUE(kc.write(dir_.path() / "token.kubeconfig"));
  EXPECT_TRUE(kubeconfigStillValid(dir_.path() / "token.kubeconfig"));
}

}  // namespace
}  // namespace berth::kubelet::certificate
