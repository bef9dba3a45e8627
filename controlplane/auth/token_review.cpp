#include "controlplane/auth/token_review.h"

#include "controlplane/auth/json_util.h"

namespace berth::controlplane::auth {

nlohmann::json userInfoJson(const UserInfo& user) {
  nlohmann::json info = nlohmann::json::object();
  if (!user.name.empty()) info["username"] = user.name;
  if (!user.uid.empty()) info["uid"] = user.uid;
  if (!user.groups.empty()) info["groups"] = user.groups;
  if (!user.extra.empty()) info["extra"] = user.extra;
  return info;
}

Result<nlohmann::json> reviewToken(const Authentication& authentication,
                                   nlohmann::json tokenReview) {
  if (!tokenReview.is_object()) tokenReview = nlohmann::json::object();
  const nlohmann::json spec = tokenReview.value("spec", nlohmann::json::object());
  const std::string token = json::string(spec, "token");
  if (token.empty()) {
    return fail(Code::kFailedPrecondition, "token is required for TokenReview in authentication");
  }
  std::vector<std::string> audiences = json::strings(spec, "audiences");
  if (audiences.empty()) audiences = authentication.apiAudiences;

  nlohmann::json status = {{"user", nlohmann::json::object()}};
  auto result = authentication.tokens->authenticateToken(token, audiences);
  if (!result) {
    status["error"] = fmt::format("[invalid bearer token, {}]", result.error().message());
  } else if (!*result) {
    status["error"] = "invalid bearer token";
  } else {
    if (!audiences.empty() && intersectAudiences(audiences, (*result)->audiences).empty()) {
      return fail(Code::kInternal, "Internal error occurred: error validating audience");
    }
    status["authenticated"] = true;
    status["user"] = userInfoJson((*result)->user);
    if (!(*result)->audiences.empty()) status["audiences"] = (*result)->audiences;
  }
  tokenReview["status"] = std::move(status);
  return tokenReview;
}

}  // namespace berth::controlplane::auth
