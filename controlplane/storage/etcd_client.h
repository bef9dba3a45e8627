#pragma once
// The connection to etcd shared by EtcdBackend and its watches (which may outlive it): one gRPC
// channel, the KV/Watch/Maintenance stubs, unary calls with a deadline, and etcd's errors mapped
// to ours. Internal to berth_cp_etcd: it includes the generated code.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "controlplane/storage/backend.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace berth::controlplane::storage {

struct EtcdOptions;

class EtcdClient {
 public:
  [[nodiscard]] static Result<std::shared_ptr<EtcdClient>> connect(const EtcdOptions& options);

  etcdserverpb::KV::Stub& kv() { return *kv_; }
  etcdserverpb::Watch::Stub& watch() { return *watch_; }
  etcdserverpb::Maintenance::Stub& maintenance() { return *maintenance_; }
  // Where it connects, for messages: "etcd 127.0.0.1:2379".
  const std::string& name() const { return name_; }

  // Runs a unary call with the request deadline; a failure names `what`.
  template <class Response, class Call>
  [[nodiscard]] Result<Response> call(std::string_view what, Call&& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    // Wait for a connection (etcd restarting) up to the deadline instead of failing at once.
    context.set_wait_for_ready(true);
    Response response;
    grpc::Status status = rpc(&context, &response);
    if (!status.ok()) return std::unexpected(error(status, what));
    return response;
  }

  // kOutOfRange for a compacted revision, kInvalidArgument for a future one, kUnavailable for
  // a lost or slow server; other codes as gRPC's (our codes are gRPC's numbering).
  Error error(const grpc::Status& status, std::string_view what) const;

  // A range on one key that never exists: its header carries the store's revision. Linearizable.
  [[nodiscard]] Result<std::int64_t> revision();
  // The number of live keys in [start, end) at `revision` (0: now).
  [[nodiscard]] Result<std::int64_t> count(std::string_view start, std::string_view end,
                                           std::int64_t revision);

 private:
  EtcdClient() = default;
  std::string name_;
  std::chrono::milliseconds timeout_{};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

// mvccpb's KeyValue as ours.
KeyValue fromProto(const mvccpb::KeyValue& kv);

}  // namespace berth::controlplane::storage
