#include "controlplane/auth/bearer_token_authenticator.h"

#include <strings.h>

namespace berth::controlplane::auth {

namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  auto begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) + 1 - begin);
}

}  // namespace

// Over Headers::fields() rather than Headers::get(), so this library needs only the HTTP
// server's header.
std::optional<std::string_view> headerValue(const http::Headers& headers, std::string_view name) {
  for (const auto& [fieldName, value] : headers.fields()) {
    if (fieldName.size() == name.size() &&
        ::strncasecmp(fieldName.data(), name.data(), name.size()) == 0) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

Result<std::optional<UserInfo>> BearerTokenAuthenticator::authenticate(
    const http::Request& request) const {
  const std::optional<UserInfo> none;
  auto header = headerValue(request.headers, "Authorization");
  if (!header) return none;
  std::string_view authorization = trim(*header);
  // strings.SplitN(auth, " ", 3): the scheme, the token, and whatever follows a second space.
  auto space = authorization.find(' ');
  if (space == std::string_view::npos) return none;
  std::string_view scheme = authorization.substr(0, space);
  if (scheme.size() != 6 || ::strncasecmp(scheme.data(), "bearer", 6) != 0) return none;
  std::string_view token = authorization.substr(space + 1);
  token = token.substr(0, token.find(' '));
  if (token.empty()) return none;
  auto result = tokens_->authenticateToken(token, apiAudiences_);
  if (!result) {
    return fail(Code::kUnauthenticated, "[invalid bearer token, {}]", result.error().message());
  }
  if (!*result) return fail(Code::kUnauthenticated, "invalid bearer token");
  return std::optional<UserInfo>(std::move((*result)->user));
}

}  // namespace berth::controlplane::auth
