#include "kubelet/volume/json_fields.h"

namespace berth::kubelet::volume {
using nlohmann::json;

Result<std::string> stringField(const json& obj, std::string_view key, std::string_view where) {
  auto it = obj.is_object() ? obj.find(key) : obj.end();
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return fail(Code::kInvalidArgument, "{}.{}: Required value", where, key);
  return it->get<std::string>();
}

Result<mode_t> modeField(const json& obj, std::string_view key, mode_t fallback,
                         std::string_view where) {
  auto it = obj.is_object() ? obj.find(key) : obj.end();
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 0777)
    return fail(Code::kInvalidArgument,
                "{}.{}: Invalid value: {}: must be a number between 0 and 0777 (octal), both "
                "inclusive",
                where, key, it->dump());
  return static_cast<mode_t>(it->get<std::int64_t>());
}

bool boolField(const json& obj, std::string_view key) {
  auto it = obj.is_object() ? obj.find(key) : obj.end();
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace berth::kubelet::volume
