#include "cni-plugins/cni/error.h"

namespace berth::cni {

nlohmann::ordered_json CniError::toJson(const std::string& cniVersion) const {
  nlohmann::ordered_json j;
  j["cniVersion"] = cniVersion;
  j["code"] = code;
  j["msg"] = msg;
  if (!details.empty()) j["details"] = details;
  return j;
}

CniError CniError::fromJson(const nlohmann::json& j) {
  CniError e;
  if (j.is_object()) {
    if (auto it = j.find("code"); it != j.end() && it->is_number_integer()) e.code = it->get<int>();
    if (auto it = j.find("msg"); it != j.end() && it->is_string()) e.msg = it->get<std::string>();
    if (auto it = j.find("details"); it != j.end() && it->is_string()) {
      e.details = it->get<std::string>();
    }
  }
  return e;
}

CniError toCniError(const Error& e, int otherwise) {
  int code = e.code() == Code::kInvalidArgument ? kInvalidNetworkConfig : otherwise;
  return CniError{code, e.message(), {}};
}

}  // namespace berth::cni
