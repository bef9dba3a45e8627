#include "common/http/target.h"

namespace berth::http {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view s, bool plusIsSpace) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<Target> parseTarget(std::string_view target) {
  if (target.empty()) return fail(Code::kInvalidArgument, "empty request target");
  if (hasControl(target) || target.find(' ') != std::string_view::npos)
    return fail(Code::kInvalidArgument, "invalid character in request target");
  if (target == "*") return Target{"*", ""};
  std::string_view rest = target;
  if (rest.front() != '/') {
    // absolute-form: scheme "://" authority, then the path (RFC 9112 3.2.2).
    std::size_t scheme = rest.find("://");
    if (scheme == std::string_view::npos || scheme == 0)
      return fail(Code::kInvalidArgument, "request target \"{}\" is not a path or an absolute URI",
                  target);
    rest.remove_prefix(scheme + 3);
    std::size_t pathStart = rest.find_first_of("/?");
    rest = pathStart == std::string_view::npos ? std::string_view("/") : rest.substr(pathStart);
  }
  std::size_t q = rest.find('?');
  std::string_view rawPath = rest.substr(0, q);
  auto path = percentDecode(rawPath, /*plusIsSpace=*/false);
  if (!path) return fail(Code::kInvalidArgument, "invalid escape in request path \"{}\"", rawPath);
  Target t;
  t.path = path->empty() ? "/" : std::move(*path);
  if (q != std::string_view::npos) t.rawQuery = rest.substr(q + 1);
  return t;
}

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view rawQuery) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!rawQuery.empty()) {
    std::size_t amp = rawQuery.find('&');
    std::string_view pair = rawQuery.substr(0, amp);
    rawQuery.remove_prefix(amp == std::string_view::npos ? rawQuery.size() : amp + 1);
    // Go 1.17+ refuses ';' as a separator: such a pair is dropped.
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    std::size_t eq = pair.find('=');
    auto key = percentDecode(pair.substr(0, eq), /*plusIsSpace=*/true);
    auto value = eq == std::string_view::npos
                     ? std::optional<std::string>("")
                     : percentDecode(pair.substr(eq + 1), /*plusIsSpace=*/true);
    if (key && value) out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace berth::http
