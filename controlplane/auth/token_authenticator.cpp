#include "controlplane/auth/token_authenticator.h"

#include <algorithm>

#include <fmt/ranges.h>

namespace berth::controlplane::auth {

std::string aggregateMessages(const std::vector<std::string>& messages) {
  if (messages.size() == 1) return messages.front();
  return fmt::format("[{}]", fmt::join(messages, ", "));
}

std::vector<std::string> intersectAudiences(std::span<const std::string> a,
                                            std::span<const std::string> b) {
  std::vector<std::string> both;
  for (const auto& audience : a) {
    if (std::find(b.begin(), b.end(), audience) != b.end()) both.push_back(audience);
  }
  return both;
}

void addAuthenticatedGroup(UserInfo& user) {
  for (const auto& group : user.groups) {
    if (group == kAuthenticatedGroup || group == kUnauthenticatedGroup) return;
  }
  user.groups.emplace_back(kAuthenticatedGroup);
}

Result<std::optional<TokenAuthentication>> TokenUnion::authenticateToken(
    std::string_view token, std::span<const std::string> audiences) const {
  std::vector<std::string> errors;
  for (const auto& authenticator : authenticators_) {
    auto result = authenticator->authenticateToken(token, audiences);
    if (!result) {
      errors.push_back(result.error().message());
      continue;
    }
    if (*result) return result;
  }
  if (!errors.empty()) return fail(Code::kUnauthenticated, aggregateMessages(errors));
  return std::optional<TokenAuthentication>();
}

Result<std::optional<TokenAuthentication>> AudienceAgnosticToken::authenticateToken(
    std::string_view token, std::span<const std::string> audiences) const {
  if (audiences.empty()) return inner_->authenticateToken(token, audiences);
  std::vector<std::string> valid = intersectAudiences(apiAudiences_, audiences);
  if (valid.empty()) return std::optional<TokenAuthentication>();
  auto result = BERTH_TRY(inner_->authenticateToken(token, audiences));
  if (result) result->audiences = std::move(valid);
  return result;
}

Result<std::optional<TokenAuthentication>> AuthenticatedGroupAdder::authenticateToken(
    std::string_view token, std::span<const std::string> audiences) const {
  auto result = BERTH_TRY(inner_->authenticateToken(token, audiences));
  if (result) addAuthenticatedGroup(result->user);
  return result;
}

}  // namespace berth::controlplane::auth
