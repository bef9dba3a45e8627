#pragma once
// The request-target (RFC 9112 3.2) and its query (application/x-www-form-urlencoded), decoded
// as Go's net/url does for a server: what Request::path, rawQuery and query hold. Apart from the
// connection code so the fuzz targets and tests reach it directly.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace berth::http {

struct Target {
  std::string path;      // percent-decoded
  std::string rawQuery;  // after '?', undecoded
};

// Origin-form ("/a%20b?x=1"), absolute-form ("http://host/p?q") or asterisk-form ("*").
// kInvalidArgument for anything else, a bad escape in the path, or a control character.
[[nodiscard]] Result<Target> parseTarget(std::string_view target);

// The pairs of a query in order, '+' a space. A pair with a bad escape is dropped, as
// url.ParseQuery drops it (and the apiserver ignores its error).
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view rawQuery);

// %XX escapes decoded ('+' too when `plusIsSpace`); nullopt for a malformed escape.
std::optional<std::string> percentDecode(std::string_view s, bool plusIsSpace);

}  // namespace berth::http
