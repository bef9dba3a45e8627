#include "images/reference.h"

#include <gtest/gtest.h>

namespace berth::images {
namespace {

const std::string kHex = std::string(64, 'e');

struct GoodCase {
  std::string input;
  std::string normalised;
  std::string domain;
  std::string path;
};

TEST(Reference, NormalisesAsDockerDoes) {
  std::vector<GoodCase> cases = {
      {"busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox"},
      {"busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox"},
      {"library/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox"},
      {"docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox"},
      {"index.docker.io/foo/bar:v1", "docker.io/foo/bar:v1", "docker.io", "foo/bar"},
      {"user/app", "docker.io/user/app:latest", "docker.io", "user/app"},
      {"localhost/app", "localhost/app:latest", "localhost", "app"},
      {"localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000", "a/b/c"},
      {"127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000", "busybox"},
      {"[::1]:5000/busybox:x", "[::1]:5000/busybox:x", "[::1]:5000", "busybox"},
      {"registry.k8s.io/e2e-test-images/busybox:1.29-2",
       "registry.k8s.io/e2e-test-images/busybox:1.29-2", "registry.k8s.io",
       "e2e-test-images/busybox"},
      {"Example.com/a", "Example.com/a:latest", "Example.com", "a"},
      {"a__b/c.d-e_f", "docker.io/a__b/c.d-e_f:latest", "docker.io", "a__b/c.d-e_f"},
      {"busybox@sha256:" + kHex, "docker.io/library/busybox@sha256:" + kHex, "docker.io",
       "library/busybox"},
      {"busybox:1.36@sha256:" + kHex, "docker.io/library/busybox:1.36@sha256:" + kHex, "docker.io",
       "library/busybox"},
  };
  for (const auto& c : cases) {
    auto r = Reference::parse(c.input);
    ASSERT_TRUE(r) << c.input << ": " << r.error().message();
    EXPECT_EQ(r->string(), c.normalised) << c.input;
    EXPECT_EQ(r->domain(), c.domain) << c.input;
    EXPECT_EQ(r->path(), c.path) << c.input;
  }
}

TEST(Reference, ManifestReferencePrefersTheDigest) {
  auto r = Reference::parse("busybox:1.36@sha256:" + kHex);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->manifestReference(), "sha256:" + kHex);
  EXPECT_EQ(Reference::parse("busybox")->manifestReference(), "latest");
}

struct BadCase {
  std::string input;
  std::string want;  // a substring of the message
};

TEST(Reference, BadReferencesSayWhatIsWrong) {
  std::vector<BadCase> cases = {
      {"", "empty"},
      {kHex, "64-byte hexadecimal"},
      {"Busybox", "must be lowercase"},
      {"docker.io/Library/busybox", "must be lowercase"},
      {"busybox:", "invalid tag \"\""},
      {"busybox:-x", "invalid tag \"-x\""},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox@sha256:abc", "needs 64 lowercase hex"},
      {"busybox@", "is not a digest"},
      {"a//b", "empty path component"},
      {"a/b/", "empty path component"},
      {"-host.com/a", "invalid registry host \"-host.com\""},
      {"host.com:abc/a", "invalid registry host"},
      {"a/-b", "invalid path component \"-b\""},
      {"a/b..c", "invalid path component \"b..c\""},
      {":tag", "missing repository name"},
      {"localhost:5000/" + std::string(250, 'a'), "must not be more than 255"},
      {"busy box", "invalid path component"},
  };
  auto huge = Reference::parse(std::string(1 << 20, 'a'));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message(), "invalid reference: longer than 1024 characters");
  for (const auto& c : cases) {
    auto r = Reference::parse(c.input);
    ASSERT_FALSE(r) << c.input << " parsed as " << r->string();
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.want), std::string::npos)
        << c.input << ": " << r.error().message();
    EXPECT_TRUE(r.error().message().starts_with("invalid reference \"" + c.input + "\": "))
        << r.error().message();
  }
}

}  // namespace
}  // namespace berth::images
