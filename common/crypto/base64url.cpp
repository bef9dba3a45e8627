#include "common/crypto/base64url.h"

#include "common/base64.h"

namespace berth::crypto {

std::string base64UrlEncode(std::string_view data) {
  std::string text = base64Encode(data);
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

Result<std::string> base64UrlDecode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '+' || c == '/') return fail(Code::kInvalidArgument, "illegal base64url character");
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (standard.size() % 4 != 0)
    standard.push_back('=');
  return base64Decode(standard);
}

}  // namespace berth::crypto
