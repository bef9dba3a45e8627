#include "runtime/container_record.h"

#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(ContainerId, RuncRules) {
  for (const char* ok : {"a", "test_1", "my-ctr.v2", "x+y", "ABC"})
    EXPECT_TRUE(validateContainerId(ok)) << ok;
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "a:b"}) {
    auto r = validateContainerId(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message(), fmt::format("invalid id format: {}", bad));
  }
}

TEST(ContainerRecord, JsonRoundTrip) {
  ContainerRecord r;
  r.id = "c1";
  r.pid = 42;
  r.pidStartTime = 123456;
  r.bundle = "/b";
  r.rootfs = "/b/rootfs";
  r.created = "2024-01-02T03:04:05.5Z";
  r.annotations = {{"k", "v"}};
  r.cgroupPaths = {{"memory", "/sys/fs/cgroup/memory/c1"}};
  r.namespaces = {"pid", "mount"};
  auto back = ContainerRecord::fromJson(r.toJson());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->toJson(), r.toJson());
}

TEST(ContainerRecord, CorruptJsonIsDataLoss) {
  auto r = ContainerRecord::fromJson(nlohmann::json{{"id", 1}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
}

TEST(ContainerRecord, StartTimeOfSelfAndOfDeadPid) {
  EXPECT_TRUE(processStartTime(::getpid()).has_value());
  EXPECT_FALSE(processStartTime(0).has_value());
  EXPECT_FALSE(processStartTime(-5).has_value());
}

TEST(ContainerRecord, Rfc3339NanoShape) {
  std::string t = rfc3339NanoNow();
  EXPECT_TRUE(std::regex_match(t, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)")))
      << t;
  EXPECT_NE(t.back(), '0');
}

TEST(ContainerStore, ReserveLoadRemove) {
  char tmpl[] = "/tmp/berth-store-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  ContainerStore store(std::filesystem::path(tmpl) / "root");
  ASSERT_TRUE(store.reserve("c1"));
  auto dup = store.reserve("c1");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), Code::kAlreadyExists);
  auto missing = store.load("c1");  // reserved but no state yet
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "container does not exist");
  ContainerRecord r;
  r.id = "c1";
  ASSERT_TRUE(store.save(r));
  EXPECT_TRUE(store.load("c1"));
  EXPECT_EQ(store.ids().value(), std::vector<std::string>{"c1"});
  ASSERT_TRUE(store.remove("c1"));
  EXPECT_TRUE(store.ids().value().empty());
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace berth::runtime
