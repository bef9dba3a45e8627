#include "controlplane/apiserver/request_info.h"

#include <algorithm>
#include <cctype>

#include "kubeapi/field_selector.h"
#include "kubeapi/label_selector.h"

namespace berth::controlplane::apiserver {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  std::vector<std::string> parts;
  if (path.empty()) return parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    parts.emplace_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string_view queryValue(const std::vector<std::pair<std::string, std::string>>& query,
                            std::string_view name) {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return {};
}

// metav1.ListOptions' `watch` is a Go bool: strconv.ParseBool's true spellings.
bool isTrue(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

// path.IsValidPathSegmentName: a name that can stand in a URL path.
bool isValidPathSegmentName(std::string_view name) {
  if (name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos && name.find('%') == std::string_view::npos;
}

std::string verbForMethod(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

Result<RequestInfo> parseRequestInfo(
    std::string_view method, std::string_view path,
    const std::vector<std::pair<std::string, std::string>>& query) {
  RequestInfo info;
  info.path = std::string(path);
  info.verb = lower(method);

  std::vector<std::string> parts = splitPath(path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return info;
  info.apiPrefix = parts[0];
  std::size_t i = 1;
  if (info.apiPrefix == "apis") {
    if (parts.size() - i < 3) return info;
    info.apiGroup = parts[i++];
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[i++];

  if (parts[i] == "proxy" || parts[i] == "watch") {
    if (parts.size() - i < 2) {
      return fail(Code::kInvalidArgument, "unable to determine kind and namespace from url, {}",
                  path);
    }
    info.verb = parts[i++];
  } else {
    info.verb = verbForMethod(method);
  }

  // /namespaces/{namespace}/{resource}/...: the namespace's own status and finalize stay
  // subresources of the namespace.
  if (parts[i] == "namespaces" && parts.size() - i > 1) {
    info.namespace_ = parts[i + 1];
    if (parts.size() - i > 2 && parts[i + 2] != "status" && parts[i + 2] != "finalize") {
      i += 2;
    }
  }
  info.parts.assign(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());

  const auto& p = info.parts;
  if (p.size() >= 3 && info.verb != "proxy") info.subresource = p[2];
  if (p.size() >= 2) info.name = p[1];
  if (!p.empty()) info.resource = p[0];

  if (info.name.empty() && info.verb == "get") {
    info.verb = isTrue(queryValue(query, "watch")) ? "watch" : "list";
    auto selector = kubeapi::FieldSelector::parse(queryValue(query, "fieldSelector"));
    if (selector) {
      if (auto name = selector->requiresExactMatch("metadata.name");
          name && isValidPathSegmentName(*name)) {
        info.name = *name;
      }
    }
  }
  if (info.name.empty() && info.verb == "delete") info.verb = "deletecollection";
  return info;
}

}  // namespace berth::controlplane::apiserver
