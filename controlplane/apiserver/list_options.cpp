#include "controlplane/apiserver/list_options.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace berth::controlplane::apiserver {
namespace {

// strconv.ParseBool, as the query decoder reads booleans.
ApiResult<bool> parseBool(std::string_view name, std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False" ||
      v.empty()) {
    return false;
  }
  return apiFail(
      kubeapi::badRequestStatus(fmt::format("{}: strconv.ParseBool: parsing {}: invalid syntax",
                                            name, nlohmann::json(std::string(v)).dump())));
}

ApiResult<std::int64_t> parseInt(std::string_view name, std::string_view v) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return apiFail(
        kubeapi::badRequestStatus(fmt::format("{}: strconv.ParseInt: parsing {}: invalid syntax",
                                              name, nlohmann::json(std::string(v)).dump())));
  }
  return value;
}

}  // namespace

ApiResult<ListOptions> parseListOptions(
    const std::vector<std::pair<std::string, std::string>>& query) {
  ListOptions options;
  for (const auto& [key, value] : query) {
    if (key == "labelSelector") {
      auto selector = kubeapi::LabelSelector::parse(value);
      if (!selector) return apiFail(kubeapi::badRequestStatus(selector.error().message()));
      options.labelSelector = std::move(*selector);
    } else if (key == "fieldSelector") {
      auto selector = kubeapi::FieldSelector::parse(value);
      if (!selector) return apiFail(kubeapi::badRequestStatus(selector.error().message()));
      options.fieldSelector = std::move(*selector);
    } else if (key == "limit") {
      options.limit = BERTH_TRY(parseInt(key, value));
      if (options.limit < 0) options.limit = 0;
    } else if (key == "continue") {
      options.continueToken = value;
    } else if (key == "resourceVersion") {
      options.resourceVersion = value;
    } else if (key == "resourceVersionMatch") {
      options.resourceVersionMatch = value;
    } else if (key == "watch") {
      options.watch = BERTH_TRY(parseBool(key, value));
    } else if (key == "allowWatchBookmarks") {
      options.allowWatchBookmarks = BERTH_TRY(parseBool(key, value));
    } else if (key == "sendInitialEvents") {
      options.sendInitialEvents = BERTH_TRY(parseBool(key, value));
    } else if (key == "timeoutSeconds") {
      std::int64_t seconds = BERTH_TRY(parseInt(key, value));
      if (seconds > 0) options.timeout = std::chrono::seconds(seconds);
    }
  }

  // ValidateListOptions.
  FieldErrors errors;
  const std::string& match = options.resourceVersionMatch;
  if (!match.empty()) {
    if (options.watch) {
      if (match != "NotOlderThan") {
        errors.push_back(FieldError::notSupported(kubeapi::FieldPath("resourceVersionMatch"), match,
                                                  {"NotOlderThan"}));
      }
    } else if (match != "NotOlderThan" && match != "Exact") {
      errors.push_back(FieldError::notSupported(kubeapi::FieldPath("resourceVersionMatch"), match,
                                                {"Exact", "NotOlderThan", ""}));
    }
    if (options.resourceVersion.empty()) {
      errors.push_back(FieldError::forbidden(kubeapi::FieldPath("resourceVersionMatch"),
                                             "resourceVersionMatch is forbidden unless "
                                             "resourceVersion is provided"));
    }
    if (!options.continueToken.empty()) {
      errors.push_back(FieldError::forbidden(kubeapi::FieldPath("resourceVersionMatch"),
                                             "resourceVersionMatch is forbidden when continue is "
                                             "provided"));
    }
    if (match == "Exact" && options.resourceVersion == "0") {
      errors.push_back(FieldError::forbidden(kubeapi::FieldPath("resourceVersionMatch"),
                                             "resourceVersionMatch \"exact\" is forbidden for "
                                             "resourceVersion \"0\""));
    }
  }
  if (!errors.empty()) {
    return apiFail(kubeapi::invalidStatus({"meta.k8s.io", "ListOptions"}, "", errors));
  }
  return options;
}

std::string encodeContinue(const ContinueToken& token) {
  nlohmann::json j = {{"v", "meta.k8s.io/v1"}, {"rv", token.revision}, {"start", token.startKey}};
  return base64Encode(j.dump());
}

ApiResult<ContinueToken> decodeContinue(std::string_view token) {
  auto invalid = [] {
    return apiFail(
        kubeapi::badRequestStatus("continue key is not valid: incorrect encoded start "
                                  "resourceVersion (version meta.k8s.io/v1)"));
  };
  auto raw = base64Decode(token);
  if (!raw) return invalid();
  nlohmann::json j = nlohmann::json::parse(*raw, nullptr, false);
  if (!j.is_object() || j.value("v", "") != "meta.k8s.io/v1" || !j.contains("rv") ||
      !j["rv"].is_number_integer() || !j.contains("start") || !j["start"].is_string()) {
    return invalid();
  }
  ContinueToken out{j["rv"].get<std::int64_t>(), j["start"].get<std::string>()};
  if (out.revision <= 0) return invalid();
  return out;
}

}  // namespace berth::controlplane::apiserver
