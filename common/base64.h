#pragma once
// RFC 4648 base64 with the standard alphabet: docker's `auth` fields, WebSocket keys and the
// base64.channel.k8s.io stream protocols.
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

// Padded to a multiple of four characters.
std::string base64Encode(std::string_view data);

// Accepts input with or without its padding; anything outside the alphabet, or data after the
// padding, is an error.
[[nodiscard]] Result<std::string> base64Decode(std::string_view text);

}  // namespace berth
