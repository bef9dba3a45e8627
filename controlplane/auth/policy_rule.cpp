#include "controlplane/auth/policy_rule.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controlplane/auth/json_util.h"

namespace berth::controlplane::auth::rbac {

namespace {

const nlohmann::json& list(const nlohmann::json& rule, std::string_view key) {
  return json::array(rule, key);
}

bool has(const nlohmann::json& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(), [&](const nlohmann::json& v) {
    return v.is_string() && v.get_ref<const std::string&>() == value;
  });
}

bool hasAll(const nlohmann::json& set, const nlohmann::json& contains) {
  return std::all_of(contains.begin(), contains.end(), [&](const nlohmann::json& v) {
    return v.is_string() && has(set, v.get_ref<const std::string&>());
  });
}

bool resourceCoversAll(const nlohmann::json& set, const nlohmann::json& covered) {
  if (has(set, "*") || hasAll(set, covered)) return true;
  for (const auto& value : covered) {
    if (!value.is_string()) return false;
    const std::string& path = value.get_ref<const std::string&>();
    if (has(set, path)) continue;
    auto slash = path.find('/');
    if (slash == std::string::npos) return false;
    if (!has(set, "*/" + path.substr(slash + 1))) return false;
  }
  return true;
}

bool nonResourceUrlCovers(std::string_view owner, std::string_view sub) {
  if (owner == sub) return true;
  if (!owner.ends_with('*')) return false;
  owner.remove_suffix(owner.size() - owner.find_last_not_of('*') - 1);
  return sub.starts_with(owner);
}

bool nonResourceUrlsCoverAll(const nlohmann::json& set, const nlohmann::json& covered) {
  return std::all_of(covered.begin(), covered.end(), [&](const nlohmann::json& path) {
    return path.is_string() &&
           std::any_of(set.begin(), set.end(), [&](const nlohmann::json& owner) {
             return owner.is_string() && nonResourceUrlCovers(owner.get_ref<const std::string&>(),
                                                              path.get_ref<const std::string&>());
           });
  });
}

std::string quotedList(const nlohmann::json& values) {
  std::string text = "[";
  bool first = true;
  for (const auto& value : values) {
    if (!first) text += ' ';
    text += value.dump();
    first = false;
  }
  return text + "]";
}

}  // namespace

bool verbMatches(const nlohmann::json& rule, std::string_view verb) {
  const auto& verbs = list(rule, "verbs");
  return has(verbs, "*") || has(verbs, verb);
}

bool apiGroupMatches(const nlohmann::json& rule, std::string_view group) {
  const auto& groups = list(rule, "apiGroups");
  return has(groups, "*") || has(groups, group);
}

bool resourceMatches(const nlohmann::json& rule, std::string_view combined,
                     std::string_view subresource) {
  for (const auto& value : list(rule, "resources")) {
    if (!value.is_string()) continue;
    const std::string& resource = value.get_ref<const std::string&>();
    if (resource == "*" || resource == combined) return true;
    if (subresource.empty()) continue;
    if (resource.size() == subresource.size() + 2 && resource.starts_with("*/") &&
        resource.ends_with(subresource)) {
      return true;
    }
  }
  return false;
}

bool resourceNameMatches(const nlohmann::json& rule, std::string_view name) {
  const auto& names = list(rule, "resourceNames");
  return names.empty() || (!name.empty() && has(names, name));
}

bool nonResourceUrlMatches(const nlohmann::json& rule, std::string_view path) {
  for (const auto& value : list(rule, "nonResourceURLs")) {
    if (!value.is_string()) continue;
    std::string_view url = value.get_ref<const std::string&>();
    if (url == "*" || url == path) return true;
    if (url.ends_with('*') && nonResourceUrlCovers(url, path)) return true;
  }
  return false;
}

bool ruleAllows(const Attributes& attributes, const nlohmann::json& rule) {
  if (!verbMatches(rule, attributes.verb)) return false;
  if (!attributes.resourceRequest) return nonResourceUrlMatches(rule, attributes.path);
  std::string combined = attributes.resource;
  if (!attributes.subresource.empty()) combined += "/" + attributes.subresource;
  return apiGroupMatches(rule, attributes.apiGroup) &&
         resourceMatches(rule, combined, attributes.subresource) &&
         resourceNameMatches(rule, attributes.name);
}

bool rulesAllow(const Attributes& attributes, const nlohmann::json& rules) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const nlohmann::json& rule) { return ruleAllows(attributes, rule); });
}

std::vector<nlohmann::json> breakdownRule(const nlohmann::json& rule) {
  std::vector<nlohmann::json> subrules;
  const auto& names = list(rule, "resourceNames");
  for (const auto& group : list(rule, "apiGroups")) {
    for (const auto& resource : list(rule, "resources")) {
      for (const auto& verb : list(rule, "verbs")) {
        nlohmann::json base = {
            {"apiGroups", {group}}, {"resources", {resource}}, {"verbs", {verb}}};
        if (names.empty()) {
          subrules.push_back(std::move(base));
          continue;
        }
        for (const auto& name : names) {
          nlohmann::json sub = base;
          sub["resourceNames"] = {name};
          subrules.push_back(std::move(sub));
        }
      }
    }
  }
  for (const auto& url : list(rule, "nonResourceURLs")) {
    for (const auto& verb : list(rule, "verbs")) {
      subrules.push_back({{"nonResourceURLs", {url}}, {"verbs", {verb}}});
    }
  }
  return subrules;
}

bool ruleCovers(const nlohmann::json& owner, const nlohmann::json& sub) {
  const bool verbs =
      has(list(owner, "verbs"), "*") || hasAll(list(owner, "verbs"), list(sub, "verbs"));
  const bool groups = has(list(owner, "apiGroups"), "*") ||
                      hasAll(list(owner, "apiGroups"), list(sub, "apiGroups"));
  const bool resources = resourceCoversAll(list(owner, "resources"), list(sub, "resources"));
  const bool urls =
      nonResourceUrlsCoverAll(list(owner, "nonResourceURLs"), list(sub, "nonResourceURLs"));
  const auto& ownerNames = list(owner, "resourceNames");
  const auto& subNames = list(sub, "resourceNames");
  const bool names =
      subNames.empty() ? ownerNames.empty() : ownerNames.empty() || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

std::pair<bool, std::vector<nlohmann::json>> covers(const std::vector<nlohmann::json>& owner,
                                                    const std::vector<nlohmann::json>& servant) {
  std::vector<nlohmann::json> missing;
  for (const auto& rule : servant) {
    for (auto& sub : breakdownRule(rule)) {
      const bool covered = std::any_of(owner.begin(), owner.end(),
                                       [&](const nlohmann::json& o) { return ruleCovers(o, sub); });
      if (!covered) missing.push_back(std::move(sub));
    }
  }
  return {missing.empty(), std::move(missing)};
}

std::vector<nlohmann::json> compactRules(const std::vector<nlohmann::json>& rules) {
  std::vector<nlohmann::json> compacted;
  // (group, resource, has a name, name) -> the merged rule, in first-seen order.
  std::map<std::tuple<std::string, std::string, bool, std::string>, std::size_t> simple;
  std::vector<nlohmann::json> merged;
  for (const auto& rule : rules) {
    const auto& groups = list(rule, "apiGroups");
    const auto& resources = list(rule, "resources");
    const auto& names = list(rule, "resourceNames");
    bool isSimple = names.size() <= 1 && list(rule, "nonResourceURLs").empty() &&
                    groups.size() == 1 && resources.size() == 1 && groups[0].is_string() &&
                    resources[0].is_string() && (names.empty() || names[0].is_string());
    for (auto it = rule.begin(); isSimple && it != rule.end(); ++it) {
      isSimple = it.key() == "apiGroups" || it.key() == "resources" || it.key() == "verbs" ||
                 it.key() == "resourceNames";
    }
    if (!isSimple) {
      compacted.push_back(rule);
      continue;
    }
    auto key = std::make_tuple(groups[0].get<std::string>(), resources[0].get<std::string>(),
                               !names.empty(), names.empty() ? "" : names[0].get<std::string>());
    auto [it, inserted] = simple.emplace(key, merged.size());
    if (inserted) {
      merged.push_back(rule);
      continue;
    }
    nlohmann::json& existing = merged[it->second];
    if (!existing["verbs"].is_array()) existing["verbs"] = nlohmann::json::array();
    for (const auto& verb : list(rule, "verbs")) {
      if (!has(existing["verbs"], verb.is_string() ? verb.get<std::string>() : "")) {
        existing["verbs"].push_back(verb);
      }
    }
  }
  compacted.insert(compacted.end(), merged.begin(), merged.end());
  return compacted;
}

std::string compactString(const nlohmann::json& rule) {
  std::vector<std::string> parts;
  for (auto [key, label] :
       {std::pair{"apiGroups", "APIGroups"}, std::pair{"resources", "Resources"},
        std::pair{"nonResourceURLs", "NonResourceURLs"},
        std::pair{"resourceNames", "ResourceNames"}, std::pair{"verbs", "Verbs"}}) {
    if (!list(rule, key).empty())
      parts.push_back(fmt::format("{}:{}", label, quotedList(list(rule, key))));
  }
  return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

}  // namespace berth::controlplane::auth::rbac
