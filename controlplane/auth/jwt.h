#pragma once
// JWS compact serialization (RFC 7515) of JWTs (RFC 7519) signed with RS256, as service account
// tokens are.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/crypto_names.h"

namespace berth::controlplane::auth {

struct Jwt {
  nlohmann::json header;  // {"alg": "RS256", "kid": "..."}
  nlohmann::json claims;
  std::string signingInput;  // "<header>.<payload>" as received
  std::string signature;     // decoded
};

// header.payload.signature with {"alg":"RS256","kid":<keyId>} (the apiserver sets no "typ").
[[nodiscard]] Result<std::string> signJwt(const KeyPair& key, std::string_view keyId,
                                          const nlohmann::json& claims);
// Splits and decodes, verifying nothing; an error when the token is not three base64url parts
// whose first two are JSON objects.
[[nodiscard]] Result<Jwt> parseJwt(std::string_view token);
// Whether the RS256 signature verifies with `key` (other algorithms never do).
bool verifyJwt(const Jwt& jwt, const PublicKey& key);

}  // namespace berth::controlplane::auth
