#include "controlplane/auth/bootstrap_token.h"

#include <openssl/crypto.h>

#include <set>

#include "common/base64.h"
#include "controlplane/auth/json_util.h"
#include "controlplane/auth/rfc3339.h"
#include "controlplane/server_log.h"

namespace berth::controlplane::auth {

namespace {

bool isTokenChars(std::string_view text) {
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// A value of the Secret's data (base64 in the stored object); "" when absent or undecodable.
std::string secretData(const nlohmann::json& secret, std::string_view key) {
  return base64Decode(json::stringAt(secret, {"data", key})).value_or("");
}

// \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z
bool isBootstrapGroupName(std::string_view name) {
  constexpr std::string_view kPrefix = "system:bootstrappers:";
  if (!name.starts_with(kPrefix)) return false;
  std::string_view rest = name.substr(kPrefix.size());
  if (rest.empty() || rest.size() > 256) return false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i + 1 == rest.size() || (c != ':' && c != '-'))) return false;
  }
  return true;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parseBootstrapToken(std::string_view token) {
  if (token.size() != 23 || token[6] != '.') return std::nullopt;
  std::string_view id = token.substr(0, 6);
  std::string_view secret = token.substr(7);
  if (!isTokenChars(id) || !isTokenChars(secret)) return std::nullopt;
  return std::pair{std::string(id), std::string(secret)};
}

Result<std::optional<TokenAuthentication>> BootstrapTokenAuthenticator::authenticateToken(
    std::string_view token, std::span<const std::string>) const {
  const std::optional<TokenAuthentication> none;
  auto parsed = parseBootstrapToken(token);
  if (!parsed) return none;
  const auto& [tokenId, tokenSecret] = *parsed;
  const std::string secretName = std::string(kBootstrapTokenSecretPrefix) + tokenId;
  auto object = lookup_->get("", "secrets", "kube-system", secretName);
  auto reject = [&](std::string_view why) {
    serverLogger()->debug("bootstrap token secret kube-system/{} {}", secretName, why);
    return none;
  };
  if (!object) return reject("does not exist");
  const nlohmann::json& secret = object->json();
  if (json::path(secret, {"metadata", "deletionTimestamp"}) != nullptr) {
    return reject("is deleted and awaiting removal");
  }
  if (json::string(secret, "type") != kBootstrapTokenSecretType ||
      json::member(secret, "data") == nullptr) {
    return reject(fmt::format("has invalid type, expected {}", kBootstrapTokenSecretType));
  }
  const std::string storedSecret = secretData(secret, "token-secret");
  if (storedSecret.size() != tokenSecret.size() ||
      CRYPTO_memcmp(storedSecret.data(), tokenSecret.data(), tokenSecret.size()) != 0) {
    return reject("has invalid value for key token-secret");
  }
  if (secretData(secret, "token-id") != tokenId) {
    return reject("has invalid value for key token-id");
  }
  if (const std::string expiration = secretData(secret, "expiration"); !expiration.empty()) {
    auto expires = parseRfc3339(expiration);
    if (!expires) return reject("has an unparseable expiration time: treating it as expired");
    if (*expires <= clock_()) return reject("has expired");
  }
  if (secretData(secret, "usage-bootstrap-authentication") != "true") {
    return reject("not marked usage-bootstrap-authentication=true");
  }
  // Sorted and deduplicated, as upstream returns them.
  std::set<std::string> groups{std::string(kBootstrappersGroup)};
  if (const std::string extra = secretData(secret, "auth-extra-groups"); !extra.empty()) {
    std::string_view rest = extra;
    while (true) {
      auto comma = rest.find(',');
      std::string_view group = rest.substr(0, comma);
      if (!isBootstrapGroupName(group)) {
        return reject(
            fmt::format("has invalid value for key auth-extra-groups: bootstrap group "
                        "\"{}\" is invalid",
                        group));
      }
      groups.emplace(group);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  TokenAuthentication result;
  result.user.name = std::string(kBootstrapUserPrefix) + tokenId;
  result.user.groups.assign(groups.begin(), groups.end());
  return std::optional<TokenAuthentication>(std::move(result));
}

}  // namespace berth::controlplane::auth
