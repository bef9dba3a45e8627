#include "kubelet/config/config_codec.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <type_traits>

#include "common/file_util.h"
#include "kubeapi/go_duration.h"
#include "kubeapi/yaml_json.h"
#include "kubelet/config/config_fields.h"
#include "kubelet/config/taints.h"

namespace berth::kubelet {

using fields::HasFields;
using nlohmann::json;

namespace {

// ---- JSON to fields. Each decode() checks the JSON type as Go's encoding/json does; `path`
// is the field's dotted path, which every error starts with.

std::string typeOf(const json& j) {
  return j.type_name();
}

Status wrongType(const json& j, const std::string& path, std::string_view want) {
  return fail(Code::kInvalidArgument, "{}: must be {}, not {} {}", path, want, typeOf(j), j.dump());
}

Status decode(const json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) return wrongType(j, path, "a string");
  out = j.get<std::string>();
  return {};
}
Status decode(const json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) return wrongType(j, path, "a boolean");
  out = j.get<bool>();
  return {};
}
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Status
    decode(const json& j, const std::string& path, T& out) {
  if (!j.is_number_integer()) return wrongType(j, path, "an integer");
  bool fits = j.is_number_unsigned()
                  ? j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                  : j.get<int64_t>() >= std::numeric_limits<T>::min() &&
                        j.get<int64_t>() <= std::numeric_limits<T>::max();
  if (!fits) {
    return fail(Code::kInvalidArgument, "{}: {} is out of range for a {}-bit integer", path,
                j.dump(), sizeof(T) * 8);
  }
  out = j.get<T>();
  return {};
}
Status decode(const json& j, const std::string& path, double& out) {
  if (!j.is_number()) return wrongType(j, path, "a number");
  out = j.get<double>();
  return {};
}
Status decode(const json& j, const std::string& path, Duration& out) {
  if (!j.is_string()) return wrongType(j, path, "a duration string (\"10s\")");
  auto d = kubeapi::parseGoDuration(j.get<std::string>());
  if (!d) {
    return fail(Code::kInvalidArgument, "{}: invalid duration {}: {}", path, j.dump(),
                d.error().message());
  }
  out = *d;
  return {};
}

template <HasFields T>
Status decode(const json& j, const std::string& path, T& out);

template <class T>
Status decode(const json& j, const std::string& path, std::optional<T>& out) {
  T value{};
  BERTH_TRY(decode(j, path, value));
  out = std::move(value);
  return {};
}
template <class T>
Status decode(const json& j, const std::string& path, std::vector<T>& out) {
  if (!j.is_array()) return wrongType(j, path, "a list");
  out.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    T item{};
    BERTH_TRY(decode(j[i], fmt::format("{}[{}]", path, i), item));
    out.push_back(std::move(item));
  }
  return {};
}
// A map is replaced, not merged: upstream decodes into an empty struct before defaulting.
template <class T>
Status decode(const json& j, const std::string& path, std::map<std::string, T>& out) {
  if (!j.is_object()) return wrongType(j, path, "a mapping");
  out.clear();
  for (const auto& [key, value] : j.items()) {
    T item{};
    BERTH_TRY(decode(value, fmt::format("{}[{}]", path, key), item));
    out.emplace(key, std::move(item));
  }
  return {};
}

// Walks a struct's fields, decoding those present in the object; any other key is an unknown
// field, as the kubelet's strict decoding ("unknown field \"authentication.webhook.enabledd\"").
class Decoder {
 public:
  Decoder(const json& object, const std::string& path) : object_(object), path_(path) {}

  template <class T>
  void operator()(const char* key, T& out) {
    auto it = object_.find(key);
    if (error_ || it == object_.end()) return;
    known_.insert(key);
    if (it->is_null()) return;  // null leaves the field as it is, as encoding/json
    if (auto st = decode(*it, pathOf(key), out); !st) error_ = std::move(st).error();
  }

  Status finish() const {
    for (const auto& [key, value] : object_.items()) {
      if (!known_.contains(key))
        return fail(Code::kInvalidArgument, "unknown field \"{}\"", pathOf(key));
    }
    if (error_) return std::unexpected(*error_);
    return {};
  }

 private:
  std::string pathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  const json& object_;
  const std::string& path_;
  std::set<std::string, std::less<>> known_;
  std::optional<Error> error_;
};

template <HasFields T>
Status decode(const json& j, const std::string& path, T& out) {
  if (!j.is_object()) return wrongType(j, path, "a mapping");
  Decoder d(j, path);
  fields::visitFields(d, out);
  return d.finish();
}

// ---- fields to JSON.

json encode(const std::string& v) {
  return v;
}
json encode(bool v) {
  return v;
}
json encode(double v) {
  return v;
}
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) json encode(T v) {
  return v;
}
json encode(Duration v) {
  return kubeapi::formatGoDuration(v);
}
template <HasFields T>
json encode(T& v);
template <class T>
json encode(std::vector<T>& v) {
  json out = json::array();
  for (auto& item : v)
    out.push_back(encode(item));
  return out;
}
template <class T>
json encode(std::map<std::string, T>& v) {
  json out = json::object();
  for (auto& [key, value] : v)
    out[key] = encode(value);
  return out;
}

struct Encoder {
  json& out;
  template <class T>
  void operator()(const char* key, T& value) {
    out[key] = encode(value);
  }
  template <class T>
  void operator()(const char* key, std::optional<T>& value) {
    if (value) out[key] = encode(*value);  // a nil pointer upstream: omitted
  }
};

template <HasFields T>
json encode(T& v) {
  json out = json::object();
  Encoder e{out};
  fields::visitFields(e, v);
  return out;
}

// ---- flag text to fields, as pflag's value types parse it.

template <class T>
Result<T> parseInt(std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return fail(Code::kInvalidArgument, "invalid integer \"{}\"", text);
  return v;
}

std::vector<std::string_view> splitComma(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

struct TextValue {
  std::string_view text;
  MapSyntax mapSyntax;
  bool firstUse;
};

Status setText(std::string& out, const TextValue& t) {
  out = t.text;
  return {};
}
Status setText(bool& out, const TextValue& t) {
  out = BERTH_TRY(parseGoBool(t.text));
  return {};
}
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Status
    setText(T& out, const TextValue& t) {
  out = BERTH_TRY(parseInt<T>(t.text));
  return {};
}
Status setText(double& out, const TextValue& t) {
  std::string s(t.text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    return fail(Code::kInvalidArgument, "invalid number \"{}\"", t.text);
  out = v;
  return {};
}
Status setText(Duration& out, const TextValue& t) {
  out = BERTH_TRY(kubeapi::parseGoDuration(t.text));
  return {};
}
template <class T>
Status setText(std::optional<T>& out, const TextValue& t) {
  T v{};
  BERTH_TRY(setText(v, t));
  out = v;
  return {};
}
// pflag StringSlice: comma-separated; the first use replaces, later uses append.
Status setText(std::vector<std::string>& out, const TextValue& t) {
  if (t.firstUse) out.clear();
  if (t.text.empty()) return {};
  for (std::string_view part : splitComma(t.text))
    out.emplace_back(part);
  return {};
}
Status setText(std::vector<Taint>& out, const TextValue& t) {
  out = BERTH_TRY(parseTaints(t.text));
  return {};
}
// cliflag MapStringString / LangleSeparatedMapStringString / MapStringBool.
template <class V>
Status setText(std::map<std::string, V>& out, const TextValue& t) {
  if (t.firstUse) out.clear();
  char sep = t.mapSyntax == MapSyntax::kLangle ? '<' : '=';
  for (std::string_view pair : splitComma(t.text)) {
    if (pair.empty()) continue;
    size_t at = pair.find(sep);
    if (at == std::string_view::npos) {
      return fail(Code::kInvalidArgument, "malformed pair, expect string{}{}", sep,
                  std::is_same_v<V, bool> ? "bool" : "string");
    }
    std::string key(trimSpace(pair.substr(0, at)));
    std::string_view value = trimSpace(pair.substr(at + 1));
    if constexpr (std::is_same_v<V, bool>) {
      auto b = parseGoBool(value);
      if (!b) return fail(Code::kInvalidArgument, "invalid value of {}: {}", key, value);
      out[key] = *b;
    } else {
      out[key] = std::string(value);
    }
  }
  return {};
}
template <class T>
Status setText(T&, const TextValue&) {
  return fail(Code::kInvalidArgument, "this field has no flag syntax");
}

// Finds the field at a dotted path and calls fn(member) on it.
template <class Fn>
class PathFinder {
 public:
  PathFinder(std::string_view target, Fn& fn) : target_(target), fn_(fn) {}
  bool found() const { return found_; }

  template <class T>
  void operator()(const char* key, T& member) {
    if (found_) return;
    std::string_view k(key);
    if (target_ == k) {
      found_ = true;
      fn_(member);
    } else if constexpr (HasFields<T>) {
      if (target_.starts_with(k) && target_.size() > k.size() && target_[k.size()] == '.') {
        PathFinder nested(target_.substr(k.size() + 1), fn_);
        fields::visitFields(nested, member);
        found_ = nested.found();
      }
    }
  }

 private:
  std::string_view target_;
  Fn& fn_;
  bool found_ = false;
};

template <class Fn>
bool withField(KubeletConfiguration& config, std::string_view path, Fn fn) {
  PathFinder<Fn> finder(path, fn);
  fields::visitFields(finder, config);
  return finder.found();
}

Status checkTypeMeta(const json& doc) {
  for (auto [key, want] :
       {std::pair{"apiVersion", kKubeletConfigApiVersion}, std::pair{"kind", kKubeletConfigKind}}) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null())
      return fail(Code::kInvalidArgument, "{}: missing, must be {}", key, want);
    if (!it->is_string() || it->get<std::string>() != want)
      return fail(Code::kInvalidArgument, "{}: must be {}, not {}", key, want, it->dump());
  }
  return {};
}

}  // namespace

Result<bool> parseGoBool(std::string_view text) {
  static const std::set<std::string_view> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string_view> kFalse = {"0", "f", "F", "FALSE", "false", "False"};
  if (kTrue.contains(text)) return true;
  if (kFalse.contains(text)) return false;
  return fail(Code::kInvalidArgument, "invalid boolean \"{}\"", text);
}

void applyDefaults(KubeletConfiguration& c, const json& decoded) {
  static const KubeletConfiguration kDefaults;
  // Before the update frequency is defaulted: upstream reports at an explicitly set update
  // frequency unless the report frequency is set too (backward compatibility).
  bool reportGiven =
      decoded.contains("nodeStatusReportFrequency") && c.nodeStatusReportFrequency != 0s;
  if (!reportGiven) {
    bool updateGiven =
        decoded.contains("nodeStatusUpdateFrequency") && c.nodeStatusUpdateFrequency != 0s;
    c.nodeStatusReportFrequency =
        updateGiven ? c.nodeStatusUpdateFrequency : kDefaults.nodeStatusReportFrequency;
  }
  auto zeroToDefault = [&c](auto member) {
    using T = std::remove_cvref_t<decltype(c.*member)>;
    if (c.*member == T{}) c.*member = kDefaults.*member;
  };
  using K = KubeletConfiguration;
  for (auto m : {&K::syncFrequency, &K::fileCheckFrequency, &K::httpCheckFrequency,
                 &K::streamingConnectionIdleTimeout, &K::nodeStatusUpdateFrequency,
                 &K::imageMinimumGCAge, &K::volumeStatsAggPeriod, &K::cpuManagerReconcilePeriod,
                 &K::runtimeRequestTimeout, &K::evictionPressureTransitionPeriod})
    zeroToDefault(m);
  for (auto m : {&K::podLogsDir, &K::address, &K::healthzBindAddress, &K::cgroupDriver,
                 &K::cpuManagerPolicy, &K::memoryManagerPolicy, &K::topologyManagerPolicy,
                 &K::topologyManagerScope, &K::hairpinMode, &K::contentType,
                 &K::containerLogMaxSize, &K::configMapAndSecretChangeDetectionStrategy,
                 &K::volumePluginDir, &K::containerRuntimeEndpoint})
    zeroToDefault(m);
  for (auto m : {&K::port, &K::registryBurst, &K::eventBurst, &K::nodeLeaseDurationSeconds,
                 &K::maxPods, &K::kubeAPIBurst})
    zeroToDefault(m);
  zeroToDefault(&K::maxOpenFiles);
  if (c.authentication.webhook.cacheTTL == 0s)
    c.authentication.webhook.cacheTTL = kDefaults.authentication.webhook.cacheTTL;
  if (c.authorization.mode.empty()) c.authorization.mode = kDefaults.authorization.mode;
  auto& authz = c.authorization.webhook;
  if (authz.cacheAuthorizedTTL == 0s)
    authz.cacheAuthorizedTTL = kDefaults.authorization.webhook.cacheAuthorizedTTL;
  if (authz.cacheUnauthorizedTTL == 0s)
    authz.cacheUnauthorizedTTL = kDefaults.authorization.webhook.cacheUnauthorizedTTL;
  if (c.podPidsLimit < 0) c.podPidsLimit = -1;
  // logsapi.SetRecommendedLoggingConfiguration
  if (c.logging.format.empty()) c.logging.format = kDefaults.logging.format;
  if (c.logging.flushFrequency == 0s) c.logging.flushFrequency = kDefaults.logging.flushFrequency;
}

Result<KubeletConfiguration> decodeKubeletConfiguration(std::string_view text) {
  json doc = BERTH_TRY(kubeapi::yamlToJson(text));
  if (!doc.is_object())
    return fail(Code::kInvalidArgument, "must be a mapping, not {}", typeOf(doc));
  BERTH_TRY(checkTypeMeta(doc));
  json body = doc;
  body.erase("apiVersion");
  body.erase("kind");
  KubeletConfiguration config;
  BERTH_TRY(decode(body, "", config));
  applyDefaults(config, body);
  return config;
}

Result<KubeletConfiguration> loadKubeletConfigFile(const std::string& path) {
  std::string text = BERTH_TRY(readFile(path));
  return withContext(decodeKubeletConfiguration(text), path);
}

json toJson(const KubeletConfiguration& config) {
  KubeletConfiguration copy = config;  // the visitors take mutable references
  json out = encode(copy);
  out["apiVersion"] = kKubeletConfigApiVersion;
  out["kind"] = kKubeletConfigKind;
  return out;
}

json configzJson(const KubeletConfiguration& config) {
  return {{"kubeletconfig", toJson(config)}};
}

Status setFieldFromText(KubeletConfiguration& config, std::string_view fieldPath,
                        std::string_view text, MapSyntax mapSyntax, bool firstUse) {
  Status result;
  TextValue value{text, mapSyntax, firstUse};
  bool found = withField(config, fieldPath, [&](auto& member) { result = setText(member, value); });
  if (!found) return fail(Code::kInternal, "no field {}", fieldPath);
  return result;
}

Status setMapFromText(std::map<std::string, std::string>& out, std::string_view text,
                      MapSyntax mapSyntax, bool firstUse) {
  return setText(out, TextValue{text, mapSyntax, firstUse});
}

FieldKind fieldKind(std::string_view fieldPath) {
  KubeletConfiguration scratch;
  FieldKind kind = FieldKind::kOther;
  bool found = withField(scratch, fieldPath, [&](auto& member) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(member)>, bool>)
      kind = FieldKind::kBool;
  });
  return found ? kind : FieldKind::kMissing;
}

}  // namespace berth::kubelet
