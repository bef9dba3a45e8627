#include "common/http/headers.h"

#include <algorithm>

namespace berth::http {
namespace {

char lowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool Headers::nameEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lowerAscii(x) == lowerAscii(y);
         });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (nameEquals(k, name)) return std::string_view(v);
  return std::nullopt;
}

std::vector<std::string> Headers::values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields_) {
    if (!nameEquals(k, name)) continue;
    std::string_view rest = v;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view item = trimSpace(rest.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return nameEquals(f.first, name); });
}

}  // namespace berth::http
