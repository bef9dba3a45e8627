#pragma once
// Exception-free reads of objects as JSON (stored objects, request bodies, JWT claims): a missing
// member or one of another type reads as empty, never throws.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::controlplane::auth::json {

// The member `key` of an object, or null.
const nlohmann::json* member(const nlohmann::json& object, std::string_view key);
// Walks members: path({"spec", "nodeName"}).
const nlohmann::json* path(const nlohmann::json& object,
                           std::initializer_list<std::string_view> keys);
// A string member ("" when absent or not a string).
std::string string(const nlohmann::json& object, std::string_view key);
std::string stringAt(const nlohmann::json& object, std::initializer_list<std::string_view> keys);
// metadata.<key>
std::string meta(const nlohmann::json& object, std::string_view key);
// The strings of an array member (other elements skipped).
std::vector<std::string> strings(const nlohmann::json& object, std::string_view key);
// An array member's elements, or an empty array.
const nlohmann::json& array(const nlohmann::json& object, std::string_view key);
bool boolean(const nlohmann::json& object, std::string_view key, bool otherwise = false);

}  // namespace berth::controlplane::auth::json
