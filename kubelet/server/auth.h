#pragma once
// Who is calling the kubelet's API and whether they may (the kubelet's server/auth.go with
// k8s.io/apiserver's delegating authenticator and authorizer):
// - authentication: a client certificate verified against the client CA (CN user, O groups),
//   else a bearer token checked with a TokenReview on the API server (cached for cacheTTL), else
//   system:anonymous when anonymous auth is on. A bad token is 401 even with anonymous on.
//   Authenticated users get the group system:authenticated.
// - authorization: AlwaysAllow, or a SubjectAccessReview for the request's attributes (nodes,
//   subresource by path, name = node name), allowed answers cached 5 min, denials 30 s.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "common/result.h"
#include "kubeapi/clock.h"

namespace berth::kubeapi {
class RestClient;
}

namespace berth::kubelet::server {

inline constexpr const char* kAnonymousUser = "system:anonymous";
inline constexpr const char* kUnauthenticatedGroup = "system:unauthenticated";
inline constexpr const char* kAuthenticatedGroup = "system:authenticated";

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool operator==(const UserInfo&) const = default;
};

// authorizer.Attributes as the kubelet fills them for a request.
struct RequestAttributes {
  UserInfo user;
  std::string verb;
  std::string apiGroup;  // ""
  std::string apiVersion = "v1";
  std::string resource = "nodes";
  std::string subresource;
  std::string name;  // the node name
  std::string path;
  bool operator==(const RequestAttributes&) const = default;
};

// The kubelet's GetRequestAttributes: verb from the method, subresource from the path
// (/stats → stats, /metrics → metrics, /logs → log, /spec → spec, anything else → proxy).
RequestAttributes requestAttributes(const UserInfo& user, std::string_view method,
                                    std::string_view path, std::string_view nodeName);
// "Forbidden (user=..., verb=..., resource=nodes, subresource(s)=[proxy])", the kubelet's 403.
std::string forbiddenMessage(const RequestAttributes& attributes);

// Entries that expire; bounded, so a flood of distinct tokens costs bounded memory.
template <class V>
class TtlCache {
 public:
  explicit TtlCache(kubeapi::Clock& clock, std::size_t maxEntries = 4096)
      : clock_(clock), max_(maxEntries) {}
  std::optional<V> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (clock_.now() >= it->second.expires) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }
  void put(const std::string& key, V value, std::chrono::nanoseconds ttl) {
    if (ttl <= std::chrono::nanoseconds::zero()) return;
    std::lock_guard lock(mu_);
    if (entries_.size() >= max_) entries_.clear();
    entries_[key] = Entry{std::move(value), clock_.now() + ttl};
  }

 private:
  struct Entry {
    V value;
    kubeapi::Clock::TimePoint expires;
  };
  kubeapi::Clock& clock_;
  std::size_t max_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

struct AuthenticationOptions {
  bool anonymous = false;
  bool webhook = true;  // bearer tokens through TokenReview
  std::chrono::nanoseconds cacheTtl = std::chrono::minutes(2);
};

class Authenticator {
 public:
  // `api` may be null when webhook authentication is off.
  Authenticator(AuthenticationOptions options, std::shared_ptr<kubeapi::RestClient> api,
                kubeapi::Clock& clock);
  // The user, or kUnauthenticated (the caller answers 401).
  [[nodiscard]] Result<UserInfo> authenticate(const http::Request& request);

 private:
  Result<UserInfo> reviewToken(const std::string& token);

  AuthenticationOptions options_;
  std::shared_ptr<kubeapi::RestClient> api_;
  TtlCache<std::optional<UserInfo>> cache_;  // nullopt: the token was rejected
};

enum class AuthorizationMode { kAlwaysAllow, kWebhook };

struct AuthorizationOptions {
  AuthorizationMode mode = AuthorizationMode::kWebhook;
  std::chrono::nanoseconds authorizedTtl = std::chrono::minutes(5);
  std::chrono::nanoseconds unauthorizedTtl = std::chrono::seconds(30);
};

struct Decision {
  bool allowed = false;
  std::string reason;
};

class Authorizer {
 public:
  Authorizer(AuthorizationOptions options, std::shared_ptr<kubeapi::RestClient> api,
             kubeapi::Clock& clock);
  // An error when the API server could not answer (the caller answers 500).
  [[nodiscard]] Result<Decision> authorize(const RequestAttributes& attributes);

 private:
  AuthorizationOptions options_;
  std::shared_ptr<kubeapi::RestClient> api_;
  TtlCache<Decision> cache_;
};

// The SubjectAccessReview the webhook authorizer sends for `attributes`.
nlohmann::json subjectAccessReview(const RequestAttributes& attributes);

}  // namespace berth::kubelet::server
