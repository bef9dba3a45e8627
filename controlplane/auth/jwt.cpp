#include "controlplane/auth/jwt.h"

#include "controlplane/auth/crypto_names.h"

namespace berth::controlplane::auth {

namespace {

Result<nlohmann::json> decodePart(std::string_view part, std::string_view what) {
  auto text = base64UrlDecode(part);
  if (!text) return fail(Code::kInvalidArgument, "JWT {} is not base64url", what);
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return fail(Code::kInvalidArgument, "JWT {} is not a JSON object", what);
  return json;
}

}  // namespace

Result<std::string> signJwt(const KeyPair& key, std::string_view keyId,
                            const nlohmann::json& claims) {
  if (key.algorithm() != KeyAlgorithm::kRsa) {
    return fail(Code::kInvalidArgument, "service account tokens are signed with RSA keys (RS256)");
  }
  nlohmann::json header = {{"alg", "RS256"}, {"kid", keyId}};
  std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
  auto signature = BERTH_TRY(key.sign(input));
  return input + "." + base64UrlEncode(signature);
}

Result<Jwt> parseJwt(std::string_view token) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return fail(Code::kInvalidArgument, "a JWT has three parts");
  }
  Jwt jwt;
  jwt.header = BERTH_TRY(decodePart(token.substr(0, first), "header"));
  jwt.claims = BERTH_TRY(decodePart(token.substr(first + 1, second - first - 1), "payload"));
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!signature) return fail(Code::kInvalidArgument, "JWT signature is not base64url");
  jwt.signature = std::move(*signature);
  jwt.signingInput = std::string(token.substr(0, second));
  return jwt;
}

bool verifyJwt(const Jwt& jwt, const PublicKey& key) {
  auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || *alg != "RS256" || !key.isRsa()) return false;
  return key.verify(jwt.signingInput, jwt.signature);
}

}  // namespace berth::controlplane::auth
