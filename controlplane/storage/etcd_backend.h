#pragma once
// The etcd v3 backend (berth-server --etcd-servers), for more than one server: the Backend over
// etcd's gRPC API, with the .proto written in the repo (etcdpb/). Writes are transactions whose
// compares carry the preconditions (create: create_revision == 0; update: mod_revision ==
// expected; remove: the same, or create_revision > 0), so a lost race comes back with the key as
// it is. Watches are Watch streams with prev_kv that reconnect and resume after the last revision
// delivered. etcd's own revision counter and compaction are used as they are.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {

struct EtcdOptions {
  // kube-apiserver's --etcd-servers: "http://127.0.0.1:2379"; several, all IP addresses: gRPC
  // picks one and fails over.
  std::vector<std::string> servers;
  // --etcd-cafile, --etcd-certfile, --etcd-keyfile: TLS (servers named https://).
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  std::chrono::milliseconds requestTimeout = std::chrono::seconds(10);
};

class EtcdClient;

class EtcdBackend final : public Backend {
 public:
  // Connects and reads the revision once: kUnavailable naming the servers when none answers.
  [[nodiscard]] static Result<std::unique_ptr<EtcdBackend>> open(const EtcdOptions& options);
  ~EtcdBackend() override;

  Result<std::int64_t> currentRevision() override;
  Result<std::int64_t> compactedRevision() override;
  Result<RangeResult> range(std::string_view start, std::string_view end, std::int64_t revision,
                            std::int64_t limit) override;
  Result<std::int64_t> count(std::string_view prefix) override;
  Result<KeyValue> create(std::string_view key, std::string_view value) override;
  Result<TxnResult> update(std::string_view key, std::string_view value,
                           std::int64_t expectedModRevision) override;
  Result<TxnResult> remove(std::string_view key, std::int64_t expectedModRevision) override;
  Result<std::unique_ptr<WatchHandle>> watch(std::string_view prefix, std::int64_t afterRevision,
                                             WatchCallbacks callbacks) override;
  Status compact(std::int64_t revision) override;
  Result<std::int64_t> sizeBytes() override;

 private:
  explicit EtcdBackend(std::shared_ptr<EtcdClient> client) : client_(std::move(client)) {}

  std::shared_ptr<EtcdClient> client_;
  // etcd does not tell its compaction revision; it is found by probing and only grows, so the
  // newest one known bounds the search.
  std::atomic<std::int64_t> knownCompacted_{0};
};

}  // namespace berth::controlplane::storage
