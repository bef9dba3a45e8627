#pragma once
// ASCII case folding for protocol text (HTTP header names, Kubernetes annotation keys): never
// locale-dependent, unlike std::tolower on a char.
#include <string>
#include <string_view>

namespace berth {

inline std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace berth
