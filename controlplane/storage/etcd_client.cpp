#include "controlplane/storage/etcd_client.h"

#include <arpa/inet.h>

#include "common/file_util.h"
#include "controlplane/storage/etcd_backend.h"

namespace berth::controlplane::storage {

namespace {

struct Endpoint {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
};

Result<Endpoint> parseEndpoint(std::string_view url) {
  Endpoint e;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    e.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return fail(Code::kInvalidArgument,
                "etcd server {}: want http://host:port or https://host:port", url);
  }
  while (rest.ends_with('/'))
    rest.remove_suffix(1);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == rest.size()) {
    return fail(Code::kInvalidArgument, "etcd server {}: no port", url);
  }
  e.host = std::string(rest.substr(0, colon));
  e.port = std::string(rest.substr(colon + 1));
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  return e;
}

bool isIp(const std::string& host, int family) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(family, host.c_str(), buf) == 1;
}

// One server: its address. Several: gRPC's static address list ("ipv4:a:1,b:2"), which needs IP
// literals of one family.
Result<std::pair<std::string, bool>> channelTarget(const std::vector<std::string>& servers) {
  if (servers.empty()) return fail(Code::kInvalidArgument, "etcd: no servers given");
  std::vector<Endpoint> endpoints;
  for (const auto& url : servers)
    endpoints.push_back(BERTH_TRY(parseEndpoint(url)));
  bool tls = endpoints.front().tls;
  for (const auto& e : endpoints) {
    if (e.tls != tls) return fail(Code::kInvalidArgument, "etcd servers: mixed http and https");
  }
  if (endpoints.size() == 1) {
    const auto& e = endpoints.front();
    auto host = isIp(e.host, AF_INET6) ? "[" + e.host + "]" : e.host;
    return std::pair{fmt::format("{}:{}", host, e.port), tls};
  }
  bool v4 = true, v6 = true;
  for (const auto& e : endpoints) {
    v4 = v4 && isIp(e.host, AF_INET);
    v6 = v6 && isIp(e.host, AF_INET6);
  }
  if (!v4 && !v6) {
    return fail(Code::kInvalidArgument,
                "etcd servers: several servers must be IP addresses of one family");
  }
  std::string target = v4 ? "ipv4:" : "ipv6:";
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) target += ',';
    auto host = v4 ? endpoints[i].host : "[" + endpoints[i].host + "]";
    target += fmt::format("{}:{}", host, endpoints[i].port);
  }
  return std::pair{target, tls};
}

Result<std::shared_ptr<grpc::ChannelCredentials>> credentials(const EtcdOptions& options,
                                                              bool tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.caFile.empty()) ssl.pem_root_certs = BERTH_TRY(readFile(options.caFile));
  if (!options.certFile.empty() != !options.keyFile.empty()) {
    return fail(Code::kInvalidArgument,
                "etcd: a client certificate needs its key and the key its "
                "certificate (--etcd-certfile, --etcd-keyfile)");
  }
  if (!options.certFile.empty()) {
    ssl.pem_cert_chain = BERTH_TRY(readFile(options.certFile));
    ssl.pem_private_key = BERTH_TRY(readFile(options.keyFile));
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

Result<std::shared_ptr<EtcdClient>> EtcdClient::connect(const EtcdOptions& options) {
  auto [target, tls] = BERTH_TRY(channelTarget(options.servers));
  auto creds = BERTH_TRY(credentials(options, tls));
  grpc::ChannelArguments args;
  // A list of every object under /registry (the watch cache's first list) is far above gRPC's
  // default 4 MiB; etcd itself sends up to 2 GiB.
  args.SetMaxReceiveMessageSize(-1);
  // Find a dead connection while a watch is idle.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::shared_ptr<EtcdClient> client(new EtcdClient());
  client->name_ = fmt::format("etcd {}", target);
  client->timeout_ = options.requestTimeout;
  client->channel_ = grpc::CreateCustomChannel(target, creds, args);
  client->kv_ = etcdserverpb::KV::NewStub(client->channel_);
  client->watch_ = etcdserverpb::Watch::NewStub(client->channel_);
  client->maintenance_ = etcdserverpb::Maintenance::NewStub(client->channel_);
  return client;
}

Error EtcdClient::error(const grpc::Status& status, std::string_view what) const {
  auto code = static_cast<Code>(status.error_code());
  const auto& message = status.error_message();
  if (code == Code::kOutOfRange && message.find("future revision") != std::string::npos) {
    code = Code::kInvalidArgument;
  } else if (code == Code::kDeadlineExceeded || code == Code::kCancelled) {
    code = Code::kUnavailable;
  }
  return Error(code, fmt::format("{}: {}: {}", what, name_, message));
}

Result<std::int64_t> EtcdClient::revision() {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(1, '\0'));
  request.set_count_only(true);
  auto response = BERTH_TRY(call<etcdserverpb::RangeResponse>(
      "revision", [&](auto* ctx, auto* out) { return kv_->Range(ctx, request, out); }));
  return response.header().revision();
}

Result<std::int64_t> EtcdClient::count(std::string_view start, std::string_view end,
                                       std::int64_t revision) {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(start));
  request.set_range_end(std::string(end));
  request.set_revision(revision);
  request.set_count_only(true);
  auto response = BERTH_TRY(call<etcdserverpb::RangeResponse>(
      fmt::format("count {}", start),
      [&](auto* ctx, auto* out) { return kv_->Range(ctx, request, out); }));
  return response.count();
}

KeyValue fromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision()};
}

}  // namespace berth::controlplane::storage
