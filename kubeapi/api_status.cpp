#include "kubeapi/api_status.h"

namespace berth::kubeapi {
namespace {

template <class J>
J detailsJson(const StatusDetails& d) {
  J j = J::object();
  if (!d.name.empty()) j["name"] = d.name;
  if (!d.group.empty()) j["group"] = d.group;
  if (!d.kind.empty()) j["kind"] = d.kind;
  if (!d.uid.empty()) j["uid"] = d.uid;
  if (!d.causes.empty()) {
    J causes = J::array();
    for (const auto& c : d.causes) {
      J cj = J::object();
      if (!c.reason.empty()) cj["reason"] = c.reason;
      if (!c.message.empty()) cj["message"] = c.message;
      if (!c.field.empty()) cj["field"] = c.field;
      causes.push_back(std::move(cj));
    }
    j["causes"] = std::move(causes);
  }
  if (d.retryAfterSeconds != 0) j["retryAfterSeconds"] = d.retryAfterSeconds;
  return j;
}

template <class J>
J statusJson(const ApiStatus& s) {
  J j = J::object();
  j["kind"] = "Status";
  j["apiVersion"] = "v1";
  j["metadata"] = J::object();
  if (!s.status.empty()) j["status"] = s.status;
  if (!s.message.empty()) j["message"] = s.message;
  if (!s.reason.empty()) j["reason"] = s.reason;
  if (!s.details.empty()) j["details"] = detailsJson<J>(s.details);
  if (s.code != 0) j["code"] = s.code;
  return j;
}

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

nlohmann::json ApiStatus::toJson() const {
  return statusJson<nlohmann::json>(*this);
}

std::string ApiStatus::body() const {
  // Messages quote what clients sent; bytes that are not UTF-8 must not make dump() throw.
  return statusJson<nlohmann::ordered_json>(*this).dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<ApiStatus> ApiStatus::fromJson(const nlohmann::json& j) {
  if (!j.is_object() || stringField(j, "kind") != "Status")
    return fail(Code::kInvalidArgument, "not a Status object");
  ApiStatus s;
  s.status = stringField(j, "status");
  s.message = stringField(j, "message");
  s.reason = stringField(j, "reason");
  if (auto it = j.find("code"); it != j.end() && it->is_number_integer()) s.code = it->get<int>();
  if (auto it = j.find("details"); it != j.end() && it->is_object()) {
    const auto& d = *it;
    s.details.name = stringField(d, "name");
    s.details.group = stringField(d, "group");
    s.details.kind = stringField(d, "kind");
    s.details.uid = stringField(d, "uid");
    if (auto r = d.find("retryAfterSeconds"); r != d.end() && r->is_number_integer())
      s.details.retryAfterSeconds = r->get<int>();
    if (auto c = d.find("causes"); c != d.end() && c->is_array()) {
      for (const auto& cj : *c) {
        if (!cj.is_object()) continue;
        s.details.causes.push_back(
            {stringField(cj, "reason"), stringField(cj, "message"), stringField(cj, "field")});
      }
    }
  }
  return s;
}

Code codeForStatus(std::string_view r, int httpCode) {
  if (r == reason::kNotFound) return Code::kNotFound;
  if (r == reason::kAlreadyExists) return Code::kAlreadyExists;
  if (r == reason::kConflict) return Code::kAborted;
  if (r == reason::kInvalid || r == reason::kBadRequest || r == reason::kNotAcceptable ||
      r == reason::kUnsupportedMediaType)
    return Code::kInvalidArgument;
  if (r == reason::kUnauthorized) return Code::kUnauthenticated;
  if (r == reason::kForbidden) return Code::kPermissionDenied;
  if (r == reason::kGone || r == reason::kExpired) return Code::kOutOfRange;
  if (r == reason::kTooManyRequests || r == reason::kRequestEntityTooLarge)
    return Code::kResourceExhausted;
  if (r == reason::kTimeout || r == reason::kServerTimeout) return Code::kDeadlineExceeded;
  if (r == reason::kMethodNotAllowed) return Code::kUnimplemented;
  if (r == reason::kServiceUnavailable) return Code::kUnavailable;
  if (r == reason::kInternalError || r == reason::kStoreReadError) return Code::kInternal;
  switch (httpCode) {
    case 400:
    case 406:
    case 415:
    case 422:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kUnimplemented;
    case 409:
      return Code::kAborted;
    case 410:
      return Code::kOutOfRange;
    case 413:
    case 429:
      return Code::kResourceExhausted;
    case 503:
      return Code::kUnavailable;
    case 504:
      return Code::kDeadlineExceeded;
    default:
      break;
  }
  if (httpCode >= 500) return Code::kInternal;
  if (httpCode >= 400) return Code::kInvalidArgument;
  return Code::kUnknown;
}

}  // namespace berth::kubeapi
