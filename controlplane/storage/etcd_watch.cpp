#include "controlplane/storage/etcd_watch.h"

#include "controlplane/storage/etcd_client.h"
#include "controlplane/storage/storage_log.h"

namespace berth::controlplane::storage {

struct EtcdWatch::State {
  std::shared_ptr<EtcdClient> client;
  std::string start;
  std::string end;       // prefixEnd(start)
  std::string fenceKey;  // == end: the stream's range is [start, end + "\0")
  WatchCallbacks callbacks;

  std::mutex mu;  // guards what follows, and is what stop and the backoff wait on
  std::condition_variable cv;
  bool stopping = false;
  bool progressWanted = false;
  std::shared_ptr<grpc::ClientContext> context;  // the stream's, to cancel it

  // Held while a callback runs: events and progress are delivered one at a time, in order.
  std::mutex deliverMu;
  // Every event of the range at or below it was delivered (or precedes the requested start);
  // written under deliverMu.
  std::atomic<std::int64_t> delivered{0};
  bool ended = false;  // onError was called: nothing more (guarded by deliverMu)

  bool stopped() {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Waits up to `delay` unless stopped; true when stopped.
  bool pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, delay, [&] { return stopping; });
  }

  // One response's events in order; a fence among them becomes a progress mark at its place.
  void deliverEvents(const google::protobuf::RepeatedPtrField<mvccpb::Event>& raw) {
    std::vector<Event> events;
    events.reserve(raw.size());
    std::lock_guard lock(deliverMu);
    auto flush = [&] {
      if (events.empty() || ended) return;
      if (callbacks.onEvents) callbacks.onEvents(events);
      delivered = std::max(delivered.load(), events.back().kv.modRevision);
      events.clear();
    };
    for (const auto& e : raw) {
      std::int64_t revision = e.kv().mod_revision();
      if (revision <= delivered) continue;  // a resumed stream never repeats, but be sure
      if (e.kv().key() == fenceKey && e.kv().value() == kEtcdFence) {
        flush();
        if (ended) return;
        delivered = revision;
        if (callbacks.onProgress) callbacks.onProgress(revision);
        continue;
      }
      if (!inRange(e.kv().key(), start, end)) continue;  // the fence key, but not a fence
      Event event;
      if (e.has_prev_kv() && !e.prev_kv().key().empty()) event.prev = fromProto(e.prev_kv());
      if (e.type() == mvccpb::Event::DELETE) {
        event.type = Event::Type::kDelete;
        // etcd's delete carries only the key and revision; ours carries the last value too.
        event.kv = KeyValue{e.kv().key(), event.prev ? event.prev->value : std::string(),
                            event.prev ? event.prev->createRevision : 0, revision};
      } else {
        event.type = Event::Type::kPut;
        event.kv = fromProto(e.kv());
      }
      events.push_back(std::move(event));
    }
    flush();
  }

  void deliverError(const Error& error) {
    std::lock_guard lock(deliverMu);
    if (ended) return;
    ended = true;
    if (callbacks.onError) callbacks.onError(error);
  }

  // One stream: true when the watch is over (stopped or ended), false to reconnect.
  bool stream() {
    auto context = std::make_shared<grpc::ClientContext>();
    {
      std::lock_guard lock(mu);
      if (stopping) return true;
      this->context = context;
    }
    auto rw = client->watch().Watch(context.get());
    etcdserverpb::WatchRequest request;
    auto* create = request.mutable_create_request();
    create->set_key(start);
    // [start, fenceKey] (a prefix with no end, "\0", has no room for a fence: all keys >= start).
    create->set_range_end(end == std::string_view("\0", 1) ? end : fenceKey + '\0');
    create->set_start_revision(delivered + 1);
    create->set_prev_kv(true);
    bool over = false;
    if (rw->Write(request)) {
      etcdserverpb::WatchResponse response;
      while (rw->Read(&response)) {
        if (response.compact_revision() > 0) {
          deliverError(Error(Code::kOutOfRange,
                             fmt::format("watch {} after revision {}: compacted at {}", start,
                                         delivered.load(), response.compact_revision())));
          over = true;
          break;
        }
        if (response.canceled()) {
          deliverError(
              Error(Code::kUnavailable, fmt::format("watch {}: cancelled by {}: {}", start,
                                                    client->name(), response.cancel_reason())));
          over = true;
          break;
        }
        deliverEvents(response.events());
      }
    }
    context->TryCancel();
    auto status = rw->Finish();
    if (!over && !stopped()) {
      storageLog()->warn("watch {} on {}: stream ended ({}), resuming after revision {}", start,
                         client->name(), status.error_message(), delivered.load());
    }
    return over || stopped();
  }

  void readLoop() {
    auto backoff = std::chrono::milliseconds(100);
    while (!stream()) {
      if (pause(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  // The store's revision, and a fence when the watch has not delivered up to it yet.
  void establishProgress() {
    auto revision = client->revision();
    if (!revision) {
      storageLog()->warn("watch {}: progress: {}", start, revision.error().message());
      return;
    }
    {
      std::lock_guard lock(deliverMu);
      if (ended) return;
      if (delivered >= *revision) {
        if (callbacks.onProgress) callbacks.onProgress(delivered);
        return;
      }
    }
    // Written only where the key is absent or already a fence: never over an object.
    etcdserverpb::TxnRequest txn;
    auto* absent = txn.add_compare();
    absent->set_key(fenceKey);
    absent->set_target(etcdserverpb::Compare::CREATE);
    absent->set_result(etcdserverpb::Compare::EQUAL);
    absent->set_create_revision(0);
    etcdserverpb::PutRequest put;
    put.set_key(fenceKey);
    put.set_value(std::string(kEtcdFence));
    *txn.add_success()->mutable_request_put() = put;
    auto* again = txn.add_failure()->mutable_request_txn();
    auto* isFence = again->add_compare();
    isFence->set_key(fenceKey);
    isFence->set_target(etcdserverpb::Compare::VALUE);
    isFence->set_result(etcdserverpb::Compare::EQUAL);
    isFence->set_value(std::string(kEtcdFence));
    *again->add_success()->mutable_request_put() = put;
    auto written = client->call<etcdserverpb::TxnResponse>(
        "watch progress fence",
        [&](auto* ctx, auto* out) { return client->kv().Txn(ctx, txn, out); });
    if (!written) storageLog()->warn("watch {}: progress: {}", start, written.error().message());
  }

  void progressLoop() {
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || progressWanted; });
        if (stopping) return;
        progressWanted = false;
      }
      establishProgress();
    }
  }
};

EtcdWatch::EtcdWatch(std::shared_ptr<EtcdClient> client, std::string_view prefix,
                     std::int64_t afterRevision, WatchCallbacks callbacks)
    : state_(std::make_shared<State>()) {
  state_->client = std::move(client);
  state_->start = std::string(prefix);
  state_->end = prefixEnd(prefix);
  state_->fenceKey = state_->end;
  state_->callbacks = std::move(callbacks);
  state_->delivered = std::max<std::int64_t>(afterRevision, 0);
  reader_ = std::thread([state = state_] { state->readLoop(); });
  progress_ = std::thread([state = state_] { state->progressLoop(); });
}

EtcdWatch::~EtcdWatch() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    if (state_->context) state_->context->TryCancel();
  }
  state_->cv.notify_all();
  // Destroyed from its own callback: the thread holds the state and ends by itself.
  for (auto* t : {&reader_, &progress_}) {
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();
    } else {
      t->join();
    }
  }
}

void EtcdWatch::requestProgress() {
  {
    std::lock_guard lock(state_->mu);
    state_->progressWanted = true;
  }
  state_->cv.notify_all();
}

}  // namespace berth::controlplane::storage
