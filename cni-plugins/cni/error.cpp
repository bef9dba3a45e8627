#include "cni-plugins/cni/error.h"

#include "cni-plugins/cni/config_json.h"
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
    if (const auto* c = member(j, "code"); c && c->is_number_integer()) e.code = c->get<int>();
    if (const auto* m = member(j, "msg"); m && m->is_string()) e.msg = m->get<std::string>();
    if (const auto* d = member(j, "details"); d && d->is_string()) {
      e.details = d->get<std::string>();
    }
  }
  return e;
}

CniError toCniError(const Error& e, int otherwise) {
  int code = e.code() == Code::kInvalidArgument ? kInvalidNetworkConfig : otherwise;
  return CniError{code, e.message(), {}};
}

}  // namespace berth::cni
