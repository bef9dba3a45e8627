#include "controlplane/storage/etcd_backend.h"

#include "controlplane/storage/etcd_client.h"
#include "controlplane/storage/etcd_watch.h"

namespace berth::controlplane::storage {

namespace {

using etcdserverpb::Compare;

Compare* addCompare(etcdserverpb::TxnRequest& txn, std::string_view key,
                    Compare::CompareTarget target, Compare::CompareResult result,
                    std::int64_t value) {
  auto* c = txn.add_compare();
  c->set_key(std::string(key));
  c->set_target(target);
  c->set_result(result);
  if (target == Compare::MOD) {
    c->set_mod_revision(value);
  } else {
    c->set_create_revision(value);
  }
  return c;
}

// On a failed compare, the failure branch reads the key as it is now.
void readOnFailure(etcdserverpb::TxnRequest& txn, std::string_view key) {
  txn.add_failure()->mutable_request_range()->set_key(std::string(key));
}

std::optional<KeyValue> currentFrom(const etcdserverpb::TxnResponse& response) {
  if (response.responses_size() == 0) return std::nullopt;
  const auto& range = response.responses(0).response_range();
  if (range.kvs_size() == 0) return std::nullopt;
  return fromProto(range.kvs(0));
}

}  // namespace

Result<std::unique_ptr<EtcdBackend>> EtcdBackend::open(const EtcdOptions& options) {
  auto client = BERTH_TRY(EtcdClient::connect(options));
  BERTH_TRY(client->revision());
  return std::unique_ptr<EtcdBackend>(new EtcdBackend(std::move(client)));
}

EtcdBackend::~EtcdBackend() = default;

Result<std::int64_t> EtcdBackend::currentRevision() {
  return client_->revision();
}

Result<std::int64_t> EtcdBackend::compactedRevision() {
  // etcd answers a range at a compacted revision with ErrCompacted and says nothing else about
  // its compaction, so the mark is the oldest readable revision, found by bisection between the
  // newest mark known (it only grows) and the current revision (always readable).
  auto readable = [&](std::int64_t revision) -> Result<bool> {
    auto r = client_->count(std::string(1, '\0'), {}, revision);
    if (r) return true;
    if (r.error().code() == Code::kOutOfRange) return false;
    return std::unexpected(r.error());
  };
  std::int64_t known = knownCompacted_;
  if (BERTH_TRY(readable(std::max<std::int64_t>(known, 1)))) return known;
  std::int64_t lo = std::max<std::int64_t>(known, 1);  // not readable
  std::int64_t hi = BERTH_TRY(client_->revision());    // readable
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    if (BERTH_TRY(readable(mid))) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  std::int64_t current = knownCompacted_;
  while (current < hi && !knownCompacted_.compare_exchange_weak(current, hi)) {
  }
  return hi;
}

Result<RangeResult> EtcdBackend::range(std::string_view start, std::string_view end,
                                       std::int64_t revision, std::int64_t limit) {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(start));
  request.set_range_end(std::string(end));
  request.set_revision(revision);
  request.set_limit(limit);
  auto response = BERTH_TRY(client_->call<etcdserverpb::RangeResponse>(
      fmt::format("range {}", start),
      [&](auto* ctx, auto* out) { return client_->kv().Range(ctx, request, out); }));
  RangeResult result;
  result.revision = revision > 0 ? revision : response.header().revision();
  result.more = response.more();
  result.kvs.reserve(response.kvs_size());
  for (const auto& kv : response.kvs()) {
    if (kv.value() == kEtcdFence) continue;  // a watch's progress fence, not an object
    result.kvs.push_back(fromProto(kv));
  }
  return result;
}

Result<std::int64_t> EtcdBackend::count(std::string_view prefix) {
  return client_->count(prefix, prefixEnd(prefix), 0);
}

Result<KeyValue> EtcdBackend::create(std::string_view key, std::string_view value) {
  if (key.empty()) return fail(Code::kInvalidArgument, "create: empty key");
  etcdserverpb::TxnRequest txn;
  addCompare(txn, key, Compare::CREATE, Compare::EQUAL, 0);  // absent
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(std::string(key));
  put->set_value(std::string(value));
  auto response = BERTH_TRY(client_->call<etcdserverpb::TxnResponse>(
      fmt::format("create {}", key),
      [&](auto* ctx, auto* out) { return client_->kv().Txn(ctx, txn, out); }));
  if (!response.succeeded()) return fail(Code::kAlreadyExists, "create {}: key exists", key);
  auto revision = response.header().revision();
  return KeyValue{std::string(key), std::string(value), revision, revision};
}

Result<TxnResult> EtcdBackend::update(std::string_view key, std::string_view value,
                                      std::int64_t expectedModRevision) {
  if (key.empty()) return fail(Code::kInvalidArgument, "update: empty key");
  etcdserverpb::TxnRequest txn;
  // mod_revision == 0 would match an absent key and create it: an update needs it to exist.
  addCompare(txn, key, Compare::CREATE, Compare::GREATER, 0);
  addCompare(txn, key, Compare::MOD, Compare::EQUAL, expectedModRevision);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(std::string(key));
  put->set_value(std::string(value));
  put->set_prev_kv(true);  // for the create revision
  readOnFailure(txn, key);
  auto response = BERTH_TRY(client_->call<etcdserverpb::TxnResponse>(
      fmt::format("update {}", key),
      [&](auto* ctx, auto* out) { return client_->kv().Txn(ctx, txn, out); }));
  if (!response.succeeded()) return TxnResult{false, currentFrom(response)};
  const auto& prev = response.responses(0).response_put().prev_kv();
  auto revision = response.header().revision();
  return TxnResult{
      true, KeyValue{std::string(key), std::string(value), prev.create_revision(), revision}};
}

Result<TxnResult> EtcdBackend::remove(std::string_view key, std::int64_t expectedModRevision) {
  if (key.empty()) return fail(Code::kInvalidArgument, "remove: empty key");
  etcdserverpb::TxnRequest txn;
  addCompare(txn, key, Compare::CREATE, Compare::GREATER, 0);
  if (expectedModRevision != 0) {
    addCompare(txn, key, Compare::MOD, Compare::EQUAL, expectedModRevision);
  }
  auto* del = txn.add_success()->mutable_request_delete_range();
  del->set_key(std::string(key));
  del->set_prev_kv(true);
  readOnFailure(txn, key);
  auto response = BERTH_TRY(client_->call<etcdserverpb::TxnResponse>(
      fmt::format("remove {}", key),
      [&](auto* ctx, auto* out) { return client_->kv().Txn(ctx, txn, out); }));
  if (!response.succeeded()) return TxnResult{false, currentFrom(response)};
  const auto& deleted = response.responses(0).response_delete_range();
  if (deleted.prev_kvs_size() == 0) {
    return fail(Code::kInternal, "remove {}: {} reported no previous value", key, client_->name());
  }
  KeyValue last = fromProto(deleted.prev_kvs(0));
  last.modRevision = response.header().revision();
  return TxnResult{true, std::move(last)};
}

Result<std::unique_ptr<WatchHandle>> EtcdBackend::watch(std::string_view prefix,
                                                        std::int64_t afterRevision,
                                                        WatchCallbacks callbacks) {
  auto compacted = BERTH_TRY(compactedRevision());
  if (afterRevision < compacted) {
    return fail(Code::kOutOfRange, "watch {}: revision {} is compacted (oldest available: {})",
                prefix, afterRevision, compacted);
  }
  return std::unique_ptr<WatchHandle>(
      std::make_unique<EtcdWatch>(client_, prefix, afterRevision, std::move(callbacks)));
}

Status EtcdBackend::compact(std::int64_t revision) {
  if (revision <= knownCompacted_) return {};
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  // physical: the RPC returns once the history is gone, as SQLite's compact() does.
  request.set_physical(true);
  auto response = client_->call<etcdserverpb::CompactionResponse>(
      fmt::format("compact {}", revision),
      [&](auto* ctx, auto* out) { return client_->kv().Compact(ctx, request, out); });
  // Compacted already (by another server): nothing to do, as the contract says.
  if (!response && response.error().code() != Code::kOutOfRange) {
    return std::unexpected(response.error());
  }
  std::int64_t current = knownCompacted_;
  while (current < revision && !knownCompacted_.compare_exchange_weak(current, revision)) {
  }
  return {};
}

Result<std::int64_t> EtcdBackend::sizeBytes() {
  etcdserverpb::StatusRequest request;
  auto response =
      BERTH_TRY(client_->call<etcdserverpb::StatusResponse>("status", [&](auto* ctx, auto* out) {
        return client_->maintenance().Status(ctx, request, out);
      }));
  return response.dbsize();
}

}  // namespace berth::controlplane::storage
