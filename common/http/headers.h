#pragma once
// HTTP header fields: names compared case-insensitively, repeated fields kept in order.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::http {

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;  // name as given, value

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // The first value of a field, nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value: repeated fields and comma-separated lists, trimmed, in order.
  std::vector<std::string> values(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field of that name.
  void set(std::string name, std::string value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  static bool nameEquals(std::string_view a, std::string_view b);

 private:
  std::vector<Field> fields_;
};

}  // namespace berth::http
