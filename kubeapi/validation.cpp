#include "kubeapi/validation.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/ascii.h"

namespace berth::kubeapi {
namespace {

constexpr std::string_view kDNS1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDNS1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr std::string_view kDNS1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDNS1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDNS1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDNS1035LabelErrMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character";
constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

std::string regexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  if (examples.size() == 0)
    return out + " (regex used for validation is '" + std::string(fmt) + "')";
  out += " (e.g. ";
  bool first = true;
  for (auto e : examples) {
    if (!first) out += " or ";
    first = false;
    out += "'" + std::string(e) + "', ";
  }
  return out + "regex used for validation is '" + std::string(fmt) + "')";
}

std::string maxLenError(size_t n) {
  return fmt::format("must be no more than {} characters", n);
}
std::string emptyError() {
  return "must be non-empty";
}

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matchesDNS1123Label(std::string_view v) {
  if (v.empty() || !isLowerAlnum(v.front()) || !isLowerAlnum(v.back())) return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool matchesDNS1123Subdomain(std::string_view v) {
  size_t start = 0;
  while (true) {
    auto dot = v.find('.', start);
    if (!matchesDNS1123Label(v.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool matchesQualifiedName(std::string_view v) {
  if (v.empty() || !isAlnum(v.front()) || !isAlnum(v.back())) return false;
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string maskTrailingDash(std::string_view name) {
  std::string s(name);
  if (s.size() > 1 && s.back() == '-') s.back() = 'a';
  return s;
}

const std::string* stringAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

}  // namespace

std::vector<std::string> isDNS1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123LabelMaxLength) errs.push_back(maxLenError(kDNS1123LabelMaxLength));
  if (!matchesDNS1123Label(value)) {
    if (matchesDNS1123Subdomain(value)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(regexError(kDNS1123LabelErrMsg, kDNS1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> isDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1123SubdomainMaxLength)
    errs.push_back(maxLenError(kDNS1123SubdomainMaxLength));
  if (!matchesDNS1123Subdomain(value))
    errs.push_back(regexError(kDNS1123SubdomainErrMsg, kDNS1123SubdomainFmt, {"example.com"}));
  return errs;
}

std::vector<std::string> isDNS1035Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDNS1035LabelMaxLength) errs.push_back(maxLenError(kDNS1035LabelMaxLength));
  bool ok = matchesDNS1123Label(value) && value.front() >= 'a' && value.front() <= 'z';
  if (!ok)
    errs.push_back(regexError(kDNS1035LabelErrMsg, kDNS1035LabelFmt, {"my-name", "abc-123"}));
  return errs;
}

std::vector<std::string> isQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  size_t slashes = std::count(value.begin(), value.end(), '/');
  if (slashes > 1) {
    errs.push_back(
        "a qualified name " +
        regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (slashes == 1) {
    auto slash = value.find('/');
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part " + emptyError());
    } else {
      for (auto& m : isDNS1123Subdomain(prefix))
        errs.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    errs.push_back("name part " + emptyError());
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + maxLenError(kQualifiedNameMaxLength));
  }
  if (!matchesQualifiedName(name)) {
    errs.push_back("name part " + regexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> isValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(maxLenError(kLabelValueMaxLength));
  if (!value.empty() && !matchesQualifiedName(value))
    errs.push_back(regexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<std::string> isValidPathSegmentName(std::string_view name) {
  std::vector<std::string> errs;
  for (std::string_view illegal : {".", ".."}) {
    if (name == illegal) errs.push_back(fmt::format("may not be '{}'", illegal));
  }
  for (std::string_view illegal : {"/", "%"}) {
    if (name.find(illegal) != std::string_view::npos)
      errs.push_back(fmt::format("may not contain '{}'", illegal));
  }
  return errs;
}

std::vector<std::string> nameIsDNSSubdomain(std::string_view name, bool prefix) {
  return prefix ? isDNS1123Subdomain(maskTrailingDash(name)) : isDNS1123Subdomain(name);
}

std::vector<std::string> nameIsDNSLabel(std::string_view name, bool prefix) {
  return prefix ? isDNS1123Label(maskTrailingDash(name)) : isDNS1123Label(name);
}

std::vector<std::string> nameIsDNS1035Label(std::string_view name, bool prefix) {
  return prefix ? isDNS1035Label(maskTrailingDash(name)) : isDNS1035Label(name);
}

FieldErrorList validateLabels(const nlohmann::json& labels, const FieldPath& path) {
  FieldErrorList errs;
  if (!labels.is_object()) return errs;
  for (const auto& [k, v] : labels.items()) {
    for (auto& m : isQualifiedName(k))
      errs.push_back(FieldError::invalid(path, k, m));
    if (!v.is_string()) {
      errs.push_back(FieldError::invalid(path, v, "must be a string"));
      continue;
    }
    for (auto& m : isValidLabelValue(v.get_ref<const std::string&>()))
      errs.push_back(FieldError::invalid(path, v, m));
  }
  return errs;
}

FieldErrorList validateAnnotations(const nlohmann::json& annotations, const FieldPath& path) {
  FieldErrorList errs;
  if (!annotations.is_object()) return errs;
  size_t total = 0;
  for (const auto& [k, v] : annotations.items()) {
    for (auto& m : isQualifiedName(asciiLower(k)))
      errs.push_back(FieldError::invalid(path, k, m));
    total += k.size() + (v.is_string() ? v.get_ref<const std::string&>().size() : 0);
  }
  if (total > kTotalAnnotationSizeLimitBytes)
    errs.push_back(FieldError::tooLong(path, static_cast<long>(kTotalAnnotationSizeLimitBytes)));
  return errs;
}

FieldErrorList validateFinalizers(const nlohmann::json& finalizers, const FieldPath& path) {
  FieldErrorList errs;
  if (!finalizers.is_array()) return errs;
  bool orphan = false, foreground = false;
  for (const auto& f : finalizers) {
    if (!f.is_string()) continue;
    const auto& s = f.get_ref<const std::string&>();
    for (auto& m : isQualifiedName(s))
      errs.push_back(FieldError::invalid(path, s, m));
    orphan = orphan || s == "orphan";
    foreground = foreground || s == "foregroundDeletion";
  }
  if (orphan && foreground) {
    errs.push_back(FieldError::invalid(
        path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

FieldErrorList validateOwnerReferences(const nlohmann::json& refs, const FieldPath& path) {
  FieldErrorList errs;
  if (!refs.is_array()) return errs;
  std::string firstController;
  for (const auto& ref : refs) {
    auto str = [&](const char* key) {
      const std::string* s = stringAt(ref, key);
      return s ? *s : std::string();
    };
    std::string apiVersion = str("apiVersion");
    std::string version =
        apiVersion.substr(apiVersion.find('/') == std::string::npos ? 0 : apiVersion.find('/') + 1);
    if (version.empty())
      errs.push_back(
          FieldError::invalid(path.child("apiVersion"), apiVersion, "version must not be empty"));
    if (str("kind").empty())
      errs.push_back(FieldError::invalid(path.child("kind"), "", "kind must not be empty"));
    if (str("name").empty())
      errs.push_back(FieldError::invalid(path.child("name"), "", "name must not be empty"));
    if (str("uid").empty())
      errs.push_back(FieldError::invalid(path.child("uid"), "", "uid must not be empty"));
    auto controller = ref.is_object() ? ref.find("controller") : ref.end();
    if (ref.is_object() && controller != ref.end() && controller->is_boolean() &&
        controller->get<bool>()) {
      std::string current = str("kind") + "/" + str("name");
      if (!firstController.empty()) {
        errs.push_back(FieldError::invalid(
            path, refs,
            fmt::format("Only one reference can have Controller set to true. Found \"true\" in "
                        "references for {} and {}",
                        firstController, current)));
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

FieldErrorList validateObjectMeta(const nlohmann::json& metadata, bool namespaced,
                                  const NameValidator& nameFn, const FieldPath& path) {
  FieldErrorList errs;
  static const nlohmann::json kNull;
  auto field = [&](const char* key) -> const nlohmann::json& {
    if (!metadata.is_object()) return kNull;
    auto it = metadata.find(key);
    return it == metadata.end() ? kNull : *it;
  };
  auto text = [&](const char* key) {
    const std::string* s = stringAt(metadata, key);
    return s ? *s : std::string();
  };
  std::string generateName = text("generateName");
  if (!generateName.empty()) {
    for (auto& m : nameFn(generateName, true))
      errs.push_back(FieldError::invalid(path.child("generateName"), generateName, m));
  }
  std::string name = text("name");
  if (name.empty()) {
    errs.push_back(FieldError::required(path.child("name"), "name or generateName is required"));
  } else {
    for (auto& m : nameFn(name, false))
      errs.push_back(FieldError::invalid(path.child("name"), name, m));
  }
  std::string ns = text("namespace");
  if (namespaced) {
    if (ns.empty()) {
      errs.push_back(FieldError::required(path.child("namespace")));
    } else {
      for (auto& m : nameIsDNSLabel(ns, false))
        errs.push_back(FieldError::invalid(path.child("namespace"), ns, m));
    }
  } else if (!ns.empty()) {
    errs.push_back(FieldError::forbidden(path.child("namespace"), "not allowed on this type"));
  }
  if (const auto& g = field("generation"); g.is_number_integer() && g.get<std::int64_t>() < 0) {
    errs.push_back(
        FieldError::invalid(path.child("generation"), g, "must be greater than or equal to 0"));
  }
  auto append = [&](FieldErrorList more) {
    errs.insert(errs.end(), std::make_move_iterator(more.begin()),
                std::make_move_iterator(more.end()));
  };
  append(validateLabels(field("labels"), path.child("labels")));
  append(validateAnnotations(field("annotations"), path.child("annotations")));
  append(validateOwnerReferences(field("ownerReferences"), path.child("ownerReferences")));
  append(validateFinalizers(field("finalizers"), path.child("finalizers")));
  return errs;
}

}  // namespace berth::kubeapi
