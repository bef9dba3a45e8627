#pragma once
// One backend watch over etcd: a Watch stream (prev_kv on) read by a thread of its own, which
// reconnects after a lost stream and resumes after the last revision it delivered, so nothing
// is lost or doubled across etcd restarts. A start that etcd compacted ends the watch with
// kOutOfRange.
//
// Progress is established here, not with etcd's WatchProgressRequest: up to etcd 3.4.23 (what
// Debian 12 ships) a requested progress notification can overtake events still queued for the
// watcher (etcd-io/etcd#15220, fixed in 3.4.24/3.5.8; kube-apiserver trusts it only from
// 3.4.31/3.5.13), which would make a cache skip those events. Instead, when the watch is behind
// the store's revision, requestProgress writes a fence: the key prefixEnd(prefix) (for
// "/registry/pods/" that is "/registry/pods0", never an object's key, which has a name segment)
// with the value kEtcdFence. The stream's range is widened by exactly that key, so the fence's
// event arrives in revision order with the others; it is delivered as onProgress(its revision),
// never as an event. Fences written by other servers serve the same way. EtcdBackend::range
// drops fence values.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {

class EtcdClient;

// The value of a fence key (never a JSON object, so never a stored object's value).
inline constexpr std::string_view kEtcdFence = "berth: watch progress fence";

class EtcdWatch final : public WatchHandle {
 public:
  EtcdWatch(std::shared_ptr<EtcdClient> client, std::string_view prefix, std::int64_t afterRevision,
            WatchCallbacks callbacks);
  // Cancels the stream and joins both threads: no callback starts after it returns.
  ~EtcdWatch() override;
  void requestProgress() override;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread reader_;
  std::thread progress_;
};

}  // namespace berth::controlplane::storage
