#pragma once
// Writing the runtime-spec types back to JSON with Go's omission rules: an unset optional, an
// empty container and a false `omitempty` bool are left out, so the output reads like what runc
// and containerd write. ordered_json keeps properties in insertion order, which the writers make
// follow the field order of specs-go/config.go.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::ocispec {

using OrderedJson = nlohmann::ordered_json;

template <class T>
void putIfSet(OrderedJson& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

template <class Container>
void putIfNotEmpty(OrderedJson& j, const char* key, const Container& values) {
  if (!values.empty()) j[key] = values;
}

// Go `bool ... omitempty`.
inline void putIfTrue(OrderedJson& j, const char* key, bool value) {
  if (value) j[key] = true;
}

// `write(const T&) -> OrderedJson`, one function per struct.
template <class T, class Write>
void putObject(OrderedJson& j, const char* key, const std::optional<T>& value, Write&& write) {
  if (value) j[key] = write(*value);
}

template <class T, class Write>
void putObjects(OrderedJson& j, const char* key, const std::vector<T>& values, Write&& write) {
  if (values.empty()) return;
  OrderedJson array = OrderedJson::array();
  for (const T& v : values)
    array.push_back(write(v));
  j[key] = std::move(array);
}

template <class T, class Write>
void putObjectMap(OrderedJson& j, const char* key, const std::map<std::string, T>& values,
                  Write&& write) {
  if (values.empty()) return;
  OrderedJson object = OrderedJson::object();
  for (const auto& [name, v] : values)
    object[name] = write(v);
  j[key] = std::move(object);
}

}  // namespace berth::ocispec
