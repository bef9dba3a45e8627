#pragma once
// metav1.ListOptions as the query of a list or watch request carries them, parsed and checked as
// the apiserver does (a bad selector or limit is a 400 naming the parameter).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/apiserver/api_error.h"
#include "kubeapi/field_selector.h"
#include "kubeapi/label_selector.h"

namespace berth::controlplane::apiserver {

struct ListOptions {
  std::optional<kubeapi::LabelSelector> labelSelector;
  std::optional<kubeapi::FieldSelector> fieldSelector;
  std::int64_t limit = 0;
  std::string continueToken;
  std::string resourceVersion;       // "", "0" or a revision
  std::string resourceVersionMatch;  // "", NotOlderThan, Exact
  bool watch = false;
  bool allowWatchBookmarks = false;
  std::optional<bool> sendInitialEvents;
  std::optional<std::chrono::seconds> timeout;  // timeoutSeconds
};

[[nodiscard]] ApiResult<ListOptions> parseListOptions(
    const std::vector<std::pair<std::string, std::string>>& query);

// The continue token of a paginated list: where the next page starts, at which revision
// (upstream's base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key after the resource prefix>"}).
struct ContinueToken {
  std::int64_t revision = 0;
  std::string startKey;  // relative to the resource prefix
};
std::string encodeContinue(const ContinueToken& token);
[[nodiscard]] ApiResult<ContinueToken> decodeContinue(std::string_view token);

}  // namespace berth::controlplane::apiserver
