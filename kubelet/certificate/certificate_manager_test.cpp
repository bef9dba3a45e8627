#include "kubelet/certificate/certificate_manager.h"

#include <gtest/gtest.h>

#include "kubelet/certificate/test_certificates.h"

namespace berth::kubelet::certificate {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

TEST(RotationDeadline, IsBetween70And90PercentOfTheLifetime) {
  const auto notBefore = system_clock::from_time_t(1'700'000'000);
  const auto notAfter = notBefore + 1000s;
  EXPECT_EQ(rotationDeadline(notBefore, notAfter, 0.0), notBefore + 700s);
  EXPECT_EQ(rotationDeadline(notBefore, notAfter, 0.5), notBefore + 800s);
  EXPECT_EQ(rotationDeadline(notBefore, notAfter, 1.0), notBefore + 900s);
  // Out-of-range jitter stays inside the window.
  EXPECT_EQ(rotationDeadline(notBefore, notAfter, 7.0), notBefore + 900s);
  EXPECT_EQ(rotationDeadline(notBefore, notAfter, -1.0), notBefore + 700s);
}

TEST(SatisfiesTemplate, WantsEveryRequestedNameButToleratesExtras) {
  const auto now = system_clock::now();
  auto tmpl = kubeletServingTemplate("n1", {"n1.local"}, {"10.0.0.1"});
  auto cert = [&](std::string cn, std::vector<std::string> orgs, std::vector<std::string> dns,
                  std::vector<std::string> ips) {
    auto pair = testing::makePair(cn, now, now + 1h, orgs, dns, ips);
    return crypto::Certificate::fromPem(pair.certPem).value();
  };
  EXPECT_TRUE(satisfiesTemplate(
      cert("system:node:n1", {"system:nodes"}, {"n1.local"}, {"10.0.0.1"}), tmpl));
  EXPECT_TRUE(satisfiesTemplate(cert("system:node:n1", {"system:nodes", "x"}, {"n1.local", "other"},
                                     {"10.0.0.1", "10.0.0.2"}),
                                tmpl));
  EXPECT_FALSE(satisfiesTemplate(
      cert("system:node:n2", {"system:nodes"}, {"n1.local"}, {"10.0.0.1"}), tmpl));
  EXPECT_FALSE(satisfiesTemplate(cert("system:node:n1", {}, {"n1.local"}, {"10.0.0.1"}), tmpl));
  // The node got a new address: the certificate must be renewed.
  EXPECT_FALSE(satisfiesTemplate(cert("system:node:n1", {"system:nodes"}, {"n1.local"}, {}), tmpl));
  EXPECT_FALSE(satisfiesTemplate(cert("system:node:n1", {"system:nodes"}, {}, {"10.0.0.1"}), tmpl));
}

}  // namespace
}  // namespace berth::kubelet::certificate
