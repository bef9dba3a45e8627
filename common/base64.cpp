#include "common/base64.h"

namespace berth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int valueOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16 |
                      static_cast<std::uint8_t>(data[i + 1]) << 8 |
                      static_cast<std::uint8_t>(data[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6)
      out += kAlphabet[(v >> shift) & 63];
  }
  std::size_t left = data.size() - i;
  if (left > 0) {
    std::uint32_t v = static_cast<std::uint8_t>(data[i]) << 16;
    if (left == 2) v |= static_cast<std::uint8_t>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  std::size_t end = text.find('=');
  if (end != std::string_view::npos && text.find_first_not_of('=', end) != std::string_view::npos)
    return fail(Code::kInvalidArgument, "invalid base64: data after the padding");
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text.substr(0, end)) {
    int v = valueOf(c);
    if (v < 0) return fail(Code::kInvalidArgument, "invalid base64: character '{}'", c);
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (bits >= 6) return fail(Code::kInvalidArgument, "invalid base64: truncated");
  return out;
}

}  // namespace berth
