#include "controlplane/auth/service_account_token.h"

#include <openssl/rand.h>

#include "common/base64.h"
#include "controlplane/auth/json_util.h"
#include "controlplane/auth/jwt.h"
#include "controlplane/auth/rfc3339.h"

namespace berth::controlplane::auth {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// go-jose's default leeway for exp/nbf/iat, which the apiserver also gives deleted objects.
constexpr seconds kLeeway{60};
constexpr std::string_view kLegacyTokenInvalidSinceLabel =
    "kubernetes.io/legacy-token-invalid-since";

// Whether the object's deletionTimestamp lies before `before` (deleted for good).
bool deletedBefore(const nlohmann::json& object, system_clock::time_point before) {
  const std::string deletion = json::meta(object, "deletionTimestamp");
  if (deletion.empty()) return false;
  auto when = parseRfc3339(deletion);
  return !when || *when < before;
}

std::string uuid4() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += fmt::format("{:02x}", bytes[i]);
  }
  return text;
}

nlohmann::json objectRef(const nlohmann::json& object) {
  return {{"name", json::meta(object, "name")}, {"uid", json::meta(object, "uid")}};
}

// Go's %q of a []string: ["a" "b"].
std::string quotedList(std::span<const std::string> values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ' ';
    text += nlohmann::json(values[i]).dump();
  }
  return text + "]";
}

std::vector<std::string> claimAudiences(const nlohmann::json& claims) {
  const auto* aud = json::member(claims, "aud");
  if (aud == nullptr) return {};
  if (aud->is_string()) return {aud->get<std::string>()};
  std::vector<std::string> audiences;
  if (aud->is_array()) {
    for (const auto& value : *aud) {
      if (value.is_string()) audiences.push_back(value.get<std::string>());
    }
  }
  return audiences;
}

std::optional<system_clock::time_point> numericDate(const nlohmann::json& claims,
                                                    const char* name) {
  const auto* value = json::member(claims, name);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return system_clock::time_point(seconds(value->get<std::int64_t>()));
}

UserInfo serviceAccountUser(std::string_view ns, std::string_view name, std::string uid) {
  UserInfo user;
  user.name = serviceAccountUsername(ns, name);
  user.uid = std::move(uid);
  user.groups = {std::string(kServiceAccountsGroup),
                 fmt::format("{}:{}", kServiceAccountsGroup, ns)};
  return user;
}

}  // namespace

std::string serviceAccountUsername(std::string_view ns, std::string_view name) {
  return fmt::format("{}{}:{}", kServiceAccountUserPrefix, ns, name);
}

std::optional<std::pair<std::string, std::string>> splitServiceAccountUsername(
    std::string_view username) {
  if (!username.starts_with(kServiceAccountUserPrefix)) return std::nullopt;
  std::string_view rest = username.substr(kServiceAccountUserPrefix.size());
  auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

Result<ServiceAccountTokenGenerator> ServiceAccountTokenGenerator::create(std::string issuer,
                                                                          KeyPair key) {
  if (key.algorithm() != KeyAlgorithm::kRsa) {
    return fail(Code::kInvalidArgument, "the service account signing key must be an RSA key");
  }
  auto keyId = BERTH_TRY(key.publicKey().keyId());
  return ServiceAccountTokenGenerator(std::move(issuer), std::move(key), std::move(keyId));
}

Result<std::string> ServiceAccountTokenGenerator::generateBound(
    const BoundTokenSubject& subject, const std::vector<std::string>& audiences, seconds expiration,
    seconds warnAfter, system_clock::time_point now) const {
  if (subject.serviceAccount == nullptr) {
    return fail(Code::kInvalidArgument, "a bound token needs its service account");
  }
  if (subject.secret != nullptr && (subject.pod != nullptr || subject.node != nullptr)) {
    return fail(Code::kInternal, "internal error, token can only be bound to one object type");
  }
  const auto issuedAt = std::chrono::floor<seconds>(now).time_since_epoch().count();
  const std::string ns = json::meta(*subject.serviceAccount, "namespace");
  nlohmann::json kubernetes = {{"namespace", ns},
                               {"serviceaccount", objectRef(*subject.serviceAccount)}};
  if (subject.pod != nullptr) {
    kubernetes["pod"] = objectRef(*subject.pod);
    if (subject.node != nullptr) kubernetes["node"] = objectRef(*subject.node);
  } else if (subject.secret != nullptr) {
    kubernetes["secret"] = objectRef(*subject.secret);
  } else if (subject.node != nullptr) {
    kubernetes["node"] = objectRef(*subject.node);
  }
  if (warnAfter.count() != 0) kubernetes["warnafter"] = issuedAt + warnAfter.count();
  nlohmann::json claims = {
      {"iss", issuer_},
      {"sub", serviceAccountUsername(ns, json::meta(*subject.serviceAccount, "name"))},
      {"aud", audiences},
      {"iat", issuedAt},
      {"nbf", issuedAt},
      {"exp", issuedAt + expiration.count()},
      {"jti", uuid4()},
      {"kubernetes.io", std::move(kubernetes)},
  };
  return signJwt(key_, keyId_, claims);
}

Result<std::string> ServiceAccountTokenGenerator::generateLegacy(
    const nlohmann::json& serviceAccount, const nlohmann::json& secret) const {
  const std::string ns = json::meta(serviceAccount, "namespace");
  const std::string name = json::meta(serviceAccount, "name");
  nlohmann::json claims = {
      {"iss", kLegacyServiceAccountIssuer},
      {"sub", serviceAccountUsername(ns, name)},
      {"kubernetes.io/serviceaccount/namespace", ns},
      {"kubernetes.io/serviceaccount/secret.name", json::meta(secret, "name")},
      {"kubernetes.io/serviceaccount/service-account.name", name},
      {"kubernetes.io/serviceaccount/service-account.uid", json::meta(serviceAccount, "uid")},
  };
  return signJwt(key_, keyId_, claims);
}

std::shared_ptr<ServiceAccountTokenAuthenticator> ServiceAccountTokenAuthenticator::bound(
    std::vector<std::string> issuers, std::vector<PublicKey> keys,
    std::vector<std::string> apiAudiences, std::shared_ptr<const storage::ObjectLookup> lookup,
    Clock clock) {
  return std::shared_ptr<ServiceAccountTokenAuthenticator>(new ServiceAccountTokenAuthenticator(
      {false, std::move(issuers), std::move(keys), std::move(apiAudiences), std::move(lookup), true,
       std::move(clock)}));
}

std::shared_ptr<ServiceAccountTokenAuthenticator> ServiceAccountTokenAuthenticator::legacy(
    std::vector<PublicKey> keys, std::vector<std::string> apiAudiences,
    std::shared_ptr<const storage::ObjectLookup> lookup, bool lookupObjects) {
  return std::shared_ptr<ServiceAccountTokenAuthenticator>(
      new ServiceAccountTokenAuthenticator({true,
                                            {std::string(kLegacyServiceAccountIssuer)},
                                            std::move(keys),
                                            std::move(apiAudiences),
                                            std::move(lookup),
                                            lookupObjects,
                                            systemClock()}));
}

Result<std::optional<TokenAuthentication>> ServiceAccountTokenAuthenticator::authenticateToken(
    std::string_view token, std::span<const std::string> audiences) const {
  const std::optional<TokenAuthentication> none;
  // Not a JWT, or not one of our issuers' (read before verifying, as the apiserver does): not ours.
  auto jwt = parseJwt(token);
  if (!jwt) return none;
  const std::string issuer = json::string(jwt->claims, "iss");
  if (std::find(options_.issuers.begin(), options_.issuers.end(), issuer) ==
      options_.issuers.end()) {
    return none;
  }
  bool verified = false;
  std::vector<std::string> errors;
  for (const auto& key : options_.keys) {
    if (verifyJwt(*jwt, key)) {
      verified = true;
      break;
    }
    errors.emplace_back("go-jose/go-jose: error in cryptographic primitive");
  }
  if (!verified) {
    if (errors.empty()) errors.emplace_back("no service account public keys");
    return fail(Code::kUnauthenticated, aggregateMessages(errors));
  }

  std::vector<std::string> tokenAudiences = claimAudiences(jwt->claims);
  if (tokenAudiences.empty()) tokenAudiences = options_.apiAudiences;  // legacy tokens
  std::span<const std::string> requested =
      audiences.empty() ? std::span<const std::string>(options_.apiAudiences) : audiences;
  std::vector<std::string> valid = intersectAudiences(requested, tokenAudiences);
  if (valid.empty() && !options_.apiAudiences.empty()) {
    return fail(Code::kUnauthenticated, "token audiences {} is invalid for the target audiences {}",
                quotedList(tokenAudiences), quotedList(requested));
  }
  auto user = options_.legacy ? validateLegacy(token, jwt->claims) : validateBound(jwt->claims);
  if (!user) return fail(Code::kUnauthenticated, user.error().message());
  return std::optional<TokenAuthentication>(
      TokenAuthentication{std::move(*user), std::move(valid)});
}

Result<UserInfo> ServiceAccountTokenAuthenticator::validateBound(
    const nlohmann::json& claims) const {
  const auto now = options_.clock();
  auto nbf = numericDate(claims, "nbf");
  auto exp = numericDate(claims, "exp");
  auto iat = numericDate(claims, "iat");
  if (nbf && now + kLeeway < *nbf) {
    return fail(Code::kUnauthenticated, "service account token is not valid yet");
  }
  if (exp && now - kLeeway > *exp) {
    return fail(Code::kUnauthenticated, "service account token has expired");
  }
  if (iat && now + kLeeway < *iat) {
    return fail(Code::kUnauthenticated, "service account token is issued in the future");
  }
  const nlohmann::json* kubernetesClaim = json::member(claims, "kubernetes.io");
  if (kubernetesClaim == nullptr || !kubernetesClaim->is_object()) {
    return fail(Code::kUnauthenticated,
                "service account token claims could not be validated due to unexpected private "
                "claim");
  }
  const nlohmann::json& kubernetes = *kubernetesClaim;
  const std::string ns = json::string(kubernetes, "namespace");
  auto ref = [&](const char* name) -> std::optional<std::pair<std::string, std::string>> {
    const auto* value = json::member(kubernetes, name);
    if (value == nullptr || !value->is_object()) return std::nullopt;
    return std::pair{json::string(*value, "name"), json::string(*value, "uid")};
  };
  const auto serviceAccountRef =
      ref("serviceaccount").value_or(std::pair<std::string, std::string>());
  const auto podRef = ref("pod");
  const auto secretRef = ref("secret");
  const auto nodeRef = ref("node");
  // Objects deleted more than the leeway ago no longer back a token.
  const auto invalidIfDeletedBefore = now - kLeeway;
  auto invalidated = [] {
    return fail(Code::kUnauthenticated, "service account token has been invalidated");
  };

  auto serviceAccount = options_.lookup->get("", "serviceaccounts", ns, serviceAccountRef.first);
  if (!serviceAccount) {
    return fail(Code::kUnauthenticated, "serviceaccounts \"{}\" not found",
                serviceAccountRef.first);
  }
  const std::string serviceAccountUid = json::meta(serviceAccount->json(), "uid");
  if (serviceAccountUid != serviceAccountRef.second) {
    return fail(Code::kUnauthenticated, "service account UID ({}) does not match claim ({})",
                serviceAccountUid, serviceAccountRef.second);
  }
  if (deletedBefore(serviceAccount->json(), invalidIfDeletedBefore)) {
    return fail(Code::kUnauthenticated, "service account {}/{} has been deleted", ns,
                serviceAccountRef.first);
  }
  // The object a token is bound to must still be the one it was issued for.
  auto checkBound = [&](const char* resource, const char* what, std::string_view objectNamespace,
                        const std::pair<std::string, std::string>& ref) -> Status {
    auto object = options_.lookup->get("", resource, objectNamespace, ref.first);
    if (!object) return invalidated();
    const std::string uid = json::meta(object->json(), "uid");
    if (uid != ref.second) {
      return fail(Code::kUnauthenticated,
                  "{} UID ({}) does not match service account {} ref claim ({})", what, uid, what,
                  ref.second);
    }
    if (deletedBefore(object->json(), invalidIfDeletedBefore)) return invalidated();
    return {};
  };
  if (secretRef) BERTH_TRY(checkBound("secrets", "secret", ns, *secretRef));
  UserInfo user = serviceAccountUser(ns, serviceAccountRef.first, serviceAccountUid);
  if (podRef) {
    BERTH_TRY(checkBound("pods", "pod", ns, *podRef));
    if (!podRef->first.empty() && !podRef->second.empty()) {
      user.extra[std::string(kPodNameKey)] = {podRef->first};
      user.extra[std::string(kPodUidKey)] = {podRef->second};
    }
  }
  // A token bound to a node alone is checked against the node (a pod-bound token only names the
  // pod's node).
  if (nodeRef && !podRef) BERTH_TRY(checkBound("nodes", "node", "", *nodeRef));
  if (const std::string jti = json::string(claims, "jti"); !jti.empty()) {
    user.extra[std::string(kCredentialIdKey)] = {"JTI=" + jti};
  }
  if (nodeRef && !nodeRef->first.empty()) {
    user.extra[std::string(kNodeNameKey)] = {nodeRef->first};
    if (!nodeRef->second.empty()) user.extra[std::string(kNodeUidKey)] = {nodeRef->second};
  }
  return user;
}

Result<UserInfo> ServiceAccountTokenAuthenticator::validateLegacy(
    std::string_view token, const nlohmann::json& claims) const {
  auto claim = [&](const char* name) { return json::string(claims, name); };
  const std::string subject = claim("sub");
  const std::string ns = claim("kubernetes.io/serviceaccount/namespace");
  const std::string secretName = claim("kubernetes.io/serviceaccount/secret.name");
  const std::string name = claim("kubernetes.io/serviceaccount/service-account.name");
  const std::string uid = claim("kubernetes.io/serviceaccount/service-account.uid");
  for (auto [value, what] :
       {std::pair{&subject, "sub"}, std::pair{&ns, "namespace"},
        std::pair{&secretName, "secretName"}, std::pair{&name, "serviceAccountName"},
        std::pair{&uid, "serviceAccountUID"}}) {
    if (value->empty()) return fail(Code::kUnauthenticated, "{} claim is missing", what);
  }
  auto split = splitServiceAccountUsername(subject);
  if (!split || split->first != ns || split->second != name) {
    return fail(Code::kUnauthenticated, "sub claim is invalid");
  }
  if (options_.lookupObjects) {
    auto secret = options_.lookup->get("", "secrets", ns, secretName);
    if (!secret || !json::meta(secret->json(), "deletionTimestamp").empty()) {
      return fail(Code::kUnauthenticated, "Token has been invalidated");
    }
    const std::string stored =
        base64Decode(json::stringAt(secret->json(), {"data", "token"})).value_or("");
    if (stored != token) {
      return fail(Code::kUnauthenticated, "Token does not match server's copy");
    }
    auto serviceAccount = options_.lookup->get("", "serviceaccounts", ns, name);
    if (!serviceAccount) {
      return fail(Code::kUnauthenticated, "serviceaccounts \"{}\" not found", name);
    }
    if (!json::meta(serviceAccount->json(), "deletionTimestamp").empty()) {
      return fail(Code::kUnauthenticated, "ServiceAccount {}/{} has been deleted", ns, name);
    }
    const std::string actualUid = json::meta(serviceAccount->json(), "uid");
    if (actualUid != uid) {
      return fail(Code::kUnauthenticated, "ServiceAccount UID ({}) does not match claim ({})",
                  actualUid, uid);
    }
    if (json::path(secret->json(), {"metadata", "labels", kLegacyTokenInvalidSinceLabel})) {
      return fail(Code::kUnauthenticated,
                  "the token in secret {}/{} for service account {}/{} has been marked invalid. "
                  "Use tokens from the TokenRequest API or manually created secret-based tokens, "
                  "or remove the '{}' label from the secret to temporarily allow use of this token",
                  ns, secretName, ns, name, kLegacyTokenInvalidSinceLabel);
    }
  }
  return serviceAccountUser(ns, name, uid);
}

}  // namespace berth::controlplane::auth
