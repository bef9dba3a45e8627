#pragma once
// RFC 4648 §5 base64url without padding, as JWS (RFC 7515) encodes its parts.
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::crypto {

std::string base64UrlEncode(std::string_view data);
// Accepts input with or without padding; standard-alphabet characters ('+', '/') are errors.
[[nodiscard]] Result<std::string> base64UrlDecode(std::string_view text);

}  // namespace berth::crypto
