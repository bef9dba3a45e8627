#pragma once
// Static bearer tokens from kube-apiserver's --token-auth-file: a CSV file of
// `token,user,uid[,"group1,group2,..."]` records, read as Go's encoding/csv reads it (quoted
// fields,
// "" escapes, blank lines skipped, any number of columns from 3 up), with its error messages.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "controlplane/auth/token_authenticator.h"

namespace berth::controlplane::auth {

class StaticTokenAuthenticator final : public TokenAuthenticator {
 public:
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> fromFile(
      const std::filesystem::path& path);
  // `path` names the file in messages.
  [[nodiscard]] static Result<std::shared_ptr<StaticTokenAuthenticator>> fromCsv(
      std::string_view text, std::string_view path);

  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

  std::size_t size() const { return tokens_.size(); }

 private:
  std::map<std::string, UserInfo, std::less<>> tokens_;
};

// Go encoding/csv records (FieldsPerRecord -1, no comments, strict quotes); errors are its
// ParseError texts ("parse error on line 1, column 5: bare \" in non-quoted-field").
[[nodiscard]] Result<std::vector<std::vector<std::string>>> parseCsv(std::string_view text);

}  // namespace berth::controlplane::auth
