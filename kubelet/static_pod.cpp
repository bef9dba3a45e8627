#include "kubelet/static_pod.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include <fmt/format.h>

#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/pod_defaults.h"
#include "kubeapi/validation.h"
#include "kubeapi/yaml_json.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;

std::string md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < size; ++i)
    out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string annotation(const Json& pod, std::string_view key) {
  return std::string(kubeapi::annotationOf(pod, key).value_or(""));
}

// helper.AddOrUpdateTolerationInPod with {operator: Exists, effect: NoExecute}: static pods are
// not evicted by a node's NoExecute taints.
void tolerateNoExecute(Json& spec) {
  Json& tolerations = spec["tolerations"];
  if (!tolerations.is_array()) tolerations = Json::array();
  for (const Json& t : tolerations) {
    if (jsonString(t, "key").empty() && jsonString(t, "operator") == "Exists" &&
        jsonString(t, "value").empty() && jsonString(t, "effect") == "NoExecute") {
      return;
    }
  }
  tolerations.push_back({{"operator", "Exists"}, {"effect", "NoExecute"}});
}

Status validateStaticPod(const Json& pod) {
  const std::string name = jsonString(jsonField(pod, "metadata"), "name");
  if (name.empty()) return fail(Code::kInvalidArgument, "metadata.name: Required value");
  for (const auto& msg : kubeapi::isDNS1123Subdomain(name)) {
    return fail(Code::kInvalidArgument, "metadata.name: Invalid value: \"{}\": {}", name, msg);
  }
  const Json& containers = jsonField(jsonField(pod, "spec"), "containers");
  if (!containers.is_array() || containers.empty()) {
    return fail(Code::kInvalidArgument, "spec.containers: Required value");
  }
  return {};
}

}  // namespace

Result<Json> decodeStaticPod(std::string_view data, const std::string& path,
                             const std::string& nodeName, const std::string& seen) {
  Json pod = BERTH_TRY(kubeapi::yamlToJson(data, kubeapi::DuplicateKeys::kLastWins));
  if (!pod.is_object()) return fail(Code::kInvalidArgument, "not a pod: a mapping is expected");
  const std::string apiVersion = jsonString(pod, "apiVersion");
  const std::string kind = jsonString(pod, "kind");
  if (apiVersion != "v1" || kind != "Pod") {
    return fail(Code::kInvalidArgument, "not a pod: apiVersion \"{}\" kind \"{}\", want v1 Pod",
                apiVersion, kind);
  }
  if (!jsonField(pod, "metadata").is_object() || !jsonField(pod, "spec").is_object()) {
    return fail(Code::kInvalidArgument, "metadata and spec must be objects");
  }
  kubeapi::applyPodDefaults(pod);
  Json& meta = pod["metadata"];
  // The hash covers what the file says (defaulted), not what the kubelet adds below.
  if (jsonString(meta, "uid").empty()) {
    meta["uid"] = md5Hex(fmt::format("host:{}file:{}{}", nodeName, path, pod.dump()));
  }
  std::string lowerNode = nodeName;
  std::transform(lowerNode.begin(), lowerNode.end(), lowerNode.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  meta["name"] = fmt::format("{}-{}", jsonString(meta, "name"), lowerNode);
  if (jsonString(meta, "namespace").empty()) meta["namespace"] = "default";
  pod["spec"]["nodeName"] = nodeName;
  Json& annotations = meta["annotations"];
  if (!annotations.is_object()) annotations = Json::object();
  annotations[std::string(kConfigHashAnnotation)] = meta["uid"];
  annotations[std::string(kConfigSourceAnnotation)] = kFileSource;
  annotations[std::string(kConfigSeenAnnotation)] = seen;
  tolerateNoExecute(pod["spec"]);
  pod["status"] = {{"phase", "Pending"}};
  BERTH_TRY(validateStaticPod(pod));
  return pod;
}

bool isStaticPod(const Json& pod) {
  const std::string source = annotation(pod, kConfigSourceAnnotation);
  return !source.empty() && source != "api";
}

bool isMirrorPod(const Json& pod) {
  return kubeapi::annotationOf(pod, kConfigMirrorAnnotation).has_value();
}

Json mirrorPodFor(const Json& staticPod, const std::string& nodeName, const std::string& nodeUid) {
  Json mirror = staticPod;
  mirror.erase("status");
  Json& meta = mirror["metadata"];
  meta.erase("uid");
  meta.erase("resourceVersion");
  meta["annotations"][std::string(kConfigMirrorAnnotation)] =
      annotation(staticPod, kConfigHashAnnotation);
  meta["ownerReferences"] = Json::array({{{"apiVersion", "v1"},
                                          {"kind", "Node"},
                                          {"name", nodeName},
                                          {"uid", nodeUid},
                                          {"controller", true}}});
  return mirror;
}

MirrorAction planMirrorPod(const Json& staticPod, const Json* mirror) {
  if (!mirror) return MirrorAction::kCreate;
  if (kubeapi::deletionTimestampOf(*mirror) || annotation(*mirror, kConfigMirrorAnnotation) !=
                                                   annotation(staticPod, kConfigHashAnnotation)) {
    return MirrorAction::kRecreate;
  }
  return MirrorAction::kNone;
}

std::string rfc3339Nano(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos != 0) {
    std::string frac = fmt::format("{:09d}", nanos);
    frac.erase(frac.find_last_not_of('0') + 1);  // Go trims trailing zeros
    out += "." + frac;
  }
  return out + "Z";
}

}  // namespace berth::kubelet
