// The etcd backend against Debian's etcd-server on 127.0.0.1 (started per test process on free
// ports with a data directory of its own): the conformance suite, a watch that survives an etcd
// restart, and the watch cache over etcd with progress through fences.
#include "controlplane/storage/etcd_backend.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "common/temp_dir_for_test.h"
#include "controlplane/storage/backend_conformance.h"
#include "controlplane/storage/etcd_test_server.h"
#include "controlplane/storage/etcd_watch.h"
#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::storage::testing {
namespace {

using namespace std::chrono_literals;

// One etcd per test process, removed at exit.
struct SharedEtcd {
  SharedEtcd() {
    auto started = EtcdTestServer::start(dir.path());
    if (started) {
      server = std::move(*started);
    } else {
      error = started.error().message();
    }
  }
  berth::testing::TempDir dir{"berth-etcd"};
  std::unique_ptr<EtcdTestServer> server;
  std::string error;
};

SharedEtcd& sharedEtcd() {
  static SharedEtcd etcd;
  return etcd;
}

Result<std::unique_ptr<EtcdBackend>> openShared() {
  auto& etcd = sharedEtcd();
  if (!etcd.server) return fail(Code::kUnavailable, "{}", etcd.error);
  return EtcdBackend::open({.servers = {etcd.server->url()}});
}

BackendFactory etcdFactory() {
  return BackendFactory{
      "Etcd", []() -> Result<std::unique_ptr<Backend>> { return BERTH_TRY(openShared()); },
      [] { return EtcdTestServer::unavailableReason(); }};
}

INSTANTIATE_TEST_SUITE_P(Etcd, BackendConformance, ::testing::Values(etcdFactory()),
                         printFactoryName);

class EtcdBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = EtcdTestServer::unavailableReason(); !reason.empty()) {
      GTEST_SKIP() << reason;
    }
    static std::atomic<int> runs = 0;
    root_ = fmt::format("/registry/{}-{}-{}/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), getpid(),
                        runs++);
  }
  std::string root_;
};

TEST_F(EtcdBackendTest, AnUnreachableServerIsNamed) {
  // Nothing listens on port 1 of loopback.
  auto backend = EtcdBackend::open({.servers = {"http://127.0.0.1:1"}, .requestTimeout = 300ms});
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code(), Code::kUnavailable) << backend.error().message();
  EXPECT_NE(backend.error().message().find("127.0.0.1:1"), std::string::npos);
  auto bad = EtcdBackend::open({.servers = {"127.0.0.1:2379"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("127.0.0.1:2379"), std::string::npos);
}

// A watch's own etcd, killed and restarted under it: the watch resumes after the last revision
// it delivered, so every write arrives once, in order.
TEST_F(EtcdBackendTest, AWatchResumesAcrossAnEtcdRestart) {
  berth::testing::TempDir dir("berth-etcd-restart");
  ASSERT_OK_AND_ASSIGN(server, EtcdTestServer::start(dir.path()));
  ASSERT_OK_AND_ASSIGN(backend, EtcdBackend::open({.servers = {server->url()}}));
  EventLog log;
  ASSERT_OK_AND_ASSIGN(start, backend->currentRevision());
  ASSERT_OK_AND_ASSIGN(handle, backend->watch(root_, start, log.callbacks()));
  std::vector<std::int64_t> written;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(kv, backend->create(root_ + fmt::format("a{}", i), "x"));
    written.push_back(kv.modRevision);
  }
  ASSERT_TRUE(log.waitForEvents(5));
  server->kill();
  ASSERT_OK(server->restart());
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(kv, backend->create(root_ + fmt::format("b{}", i), "y"));
    written.push_back(kv.modRevision);
  }
  ASSERT_TRUE(log.waitForEvents(10, 60s));
  auto events = log.events();
  ASSERT_EQ(events.size(), 10u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.modRevision, written[i]);
  }
  EXPECT_FALSE(log.error());
}

TEST_F(EtcdBackendTest, TheWatchCacheGetsProgressThroughAFence) {
  ASSERT_OK_AND_ASSIGN(backend, openShared());
  auto pods = root_ + "pods/";
  ASSERT_OK(backend->create(pods + "ns/a", R"({"metadata":{"name":"a"}})"));
  ASSERT_OK_AND_ASSIGN(cache, WatchCache::start(*backend, {.prefix = pods}));
  // A write outside the cache's prefix: only a progress mark brings the cache to it.
  ASSERT_OK_AND_ASSIGN(node, backend->create(root_ + "nodes/n1", R"({"metadata":{}})"));
  ASSERT_OK(cache->waitForFresh(20s));
  EXPECT_GE(cache->revision(), node.modRevision);
  // The fence is no object: not in the cache, not in a range of the parent prefix.
  EXPECT_EQ(cache->list(pods).items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(all, backend->range(root_, prefixEnd(root_), 0, 0));
  for (const auto& kv : all.kvs)
    EXPECT_NE(kv.value, kEtcdFence) << kv.key;
  EXPECT_EQ(all.kvs.size(), 2u);

  ASSERT_OK_AND_ASSIGN(b, backend->create(pods + "ns/b", R"({"metadata":{"name":"b"}})"));
  ASSERT_OK(cache->waitForRevision(b.modRevision, 20s));
  auto got = cache->get(pods + "ns/b");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->object->json()["metadata"]["resourceVersion"], std::to_string(b.modRevision));
}

}  // namespace
}  // namespace berth::controlplane::storage::testing
