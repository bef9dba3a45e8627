#pragma once
// apimachinery's name and metadata validation with its messages, for the server's strategies
// and for clients that check before they send:
//   isDNS1123Subdomain("A") -> {"a lowercase RFC 1123 subdomain must consist of lower case
//   alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character
//   (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]
//   ([-a-z0-9]*[a-z0-9])?)*')"}
// The is* functions return the messages (empty: valid); the validate* functions return field
// errors at the given path, as ValidateObjectMeta and friends do (maps in sorted key order).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/field_error.h"

namespace berth::kubeapi {

inline constexpr size_t kDNS1123LabelMaxLength = 63;
inline constexpr size_t kDNS1123SubdomainMaxLength = 253;
inline constexpr size_t kDNS1035LabelMaxLength = 63;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kTotalAnnotationSizeLimitBytes = 256 * 1024;

std::vector<std::string> isDNS1123Label(std::string_view value);
std::vector<std::string> isDNS1123Subdomain(std::string_view value);
std::vector<std::string> isDNS1035Label(std::string_view value);
// A label key, annotation key or finalizer: [prefix/]name.
std::vector<std::string> isQualifiedName(std::string_view value);
std::vector<std::string> isValidLabelValue(std::string_view value);
// Names that are path segments: not "." or "..", no '/' or '%'.
std::vector<std::string> isValidPathSegmentName(std::string_view name);

// apimachinery's ValidateNameFunc: prefix=true validates a generateName (a trailing '-' is
// allowed there).
using NameValidator = std::function<std::vector<std::string>(std::string_view name, bool prefix)>;
std::vector<std::string> nameIsDNSSubdomain(std::string_view name, bool prefix);
std::vector<std::string> nameIsDNSLabel(std::string_view name, bool prefix);
std::vector<std::string> nameIsDNS1035Label(std::string_view name, bool prefix);

// metadata.labels: keys qualified names, values label values. `labels` is the JSON object (or
// null).
FieldErrorList validateLabels(const nlohmann::json& labels, const FieldPath& path);
// metadata.annotations: keys qualified names (case-insensitive), total size of keys and values
// at most 256 KiB.
FieldErrorList validateAnnotations(const nlohmann::json& annotations, const FieldPath& path);
FieldErrorList validateFinalizers(const nlohmann::json& finalizers, const FieldPath& path);
FieldErrorList validateOwnerReferences(const nlohmann::json& ownerReferences,
                                       const FieldPath& path);
// ValidateObjectMeta: name (or generateName) with `nameFn`, namespace required or forbidden,
// generation non-negative, labels, annotations, ownerReferences, finalizers. `metadata` is the
// object's metadata.
FieldErrorList validateObjectMeta(const nlohmann::json& metadata, bool namespaced,
                                  const NameValidator& nameFn, const FieldPath& path);

}  // namespace berth::kubeapi
