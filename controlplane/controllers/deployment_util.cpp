#include "controlplane/controllers/deployment_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "controlplane/controllers/workload_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers::deployment {

using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

std::optional<std::int64_t> parseInt(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

const json& rollingUpdate(const json& d) {
  return jsonField(jsonField(specOf(d), "strategy"), "rollingUpdate");
}

std::optional<kubeapi::Time> timeField(const json& obj, std::string_view key) {
  auto t = kubeapi::timeFromJson(jsonField(obj, key));
  return t ? *t : std::nullopt;
}

template <class F>
std::int32_t sum(const std::vector<json>& rss, F value) {
  std::int32_t total = 0;
  for (const json& rs : rss)
    total += value(rs);
  return total;
}

}  // namespace

bool createdBefore(const json& a, const json& b) {
  auto ta = kubeapi::creationTimestampOf(a), tb = kubeapi::creationTimestampOf(b);
  if (ta != tb) return ta < tb;
  return kubeapi::nameOf(a) < kubeapi::nameOf(b);
}

Result<std::int32_t> scaledValue(const json& intOrPercent, std::int32_t total, bool roundUp) {
  if (intOrPercent.is_number_integer()) return intOrPercent.get<std::int32_t>();
  if (!intOrPercent.is_string()) return fail(Code::kInvalidArgument, "nil value for IntOrString");
  std::string s = intOrPercent.get<std::string>();
  if (!s.ends_with('%'))
    return fail(Code::kInvalidArgument,
                "invalid value for IntOrString: invalid type: string is not a percentage");
  auto percent = parseInt(std::string_view(s).substr(0, s.size() - 1));
  if (!percent) return fail(Code::kInvalidArgument, "invalid value \"{}\"", s);
  double scaled = static_cast<double>(*percent) * static_cast<double>(total) / 100.0;
  return static_cast<std::int32_t>(roundUp ? std::ceil(scaled) : std::floor(scaled));
}

Result<Fenceposts> resolveFenceposts(const json& maxSurge, const json& maxUnavailable,
                                     std::int32_t desired) {
  // intstrutil.ValueOrDefault(x, 0): unset is 0.
  Fenceposts f;
  f.maxSurge = BERTH_TRY(scaledValue(maxSurge.is_null() ? json(0) : maxSurge, desired, true));
  f.maxUnavailable =
      BERTH_TRY(scaledValue(maxUnavailable.is_null() ? json(0) : maxUnavailable, desired, false));
  if (f.maxSurge == 0 && f.maxUnavailable == 0) f.maxUnavailable = 1;
  return f;
}

bool isRollingUpdate(const json& d) {
  return jsonString(jsonField(specOf(d), "strategy"), "type", "RollingUpdate") == "RollingUpdate";
}

std::int32_t maxSurge(const json& d) {
  if (!isRollingUpdate(d)) return 0;
  auto f = resolveFenceposts(jsonField(rollingUpdate(d), "maxSurge"),
                             jsonField(rollingUpdate(d), "maxUnavailable"), specReplicas(d));
  return f ? f->maxSurge : 0;
}

std::int32_t maxUnavailable(const json& d) {
  if (!isRollingUpdate(d) || specReplicas(d) == 0) return 0;
  auto f = resolveFenceposts(jsonField(rollingUpdate(d), "maxSurge"),
                             jsonField(rollingUpdate(d), "maxUnavailable"), specReplicas(d));
  if (!f) return 0;
  return std::min(f->maxUnavailable, specReplicas(d));
}

std::uint32_t fnv32a(std::string_view data, std::uint32_t hash) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::string safeEncodeString(std::string_view s) {
  // rand.SafeEncodeString: no vowels (no bad words) and no look-alikes (0/o, 1/l, 3/e, a/4).
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (unsigned char c : s)
    out.push_back(kAlphanums[c % kAlphanums.size()]);
  return out;
}

std::string computeHash(const json& podTemplate, std::optional<std::int32_t> collisions) {
  std::uint32_t hash = fnv32a(podTemplate.dump());
  if (collisions) {
    std::uint32_t c = static_cast<std::uint32_t>(*collisions);
    char bytes[8] = {static_cast<char>(c & 0xff),
                     static_cast<char>((c >> 8) & 0xff),
                     static_cast<char>((c >> 16) & 0xff),
                     static_cast<char>(c >> 24),
                     0,
                     0,
                     0,
                     0};
    hash = fnv32a(std::string_view(bytes, sizeof bytes), hash);
  }
  return safeEncodeString(std::to_string(hash));
}

bool equalIgnoreHash(const json& a, const json& b) {
  json x = a, y = b;
  kubeapi::removeLabel(x, kPodTemplateHashLabel);
  kubeapi::removeLabel(y, kPodTemplateHashLabel);
  return x == y;
}

std::int64_t revisionOf(const json& rs) {
  auto v = kubeapi::annotationOf(rs, kRevisionAnnotation);
  if (!v) return 0;
  return parseInt(*v).value_or(0);
}

std::int64_t maxRevision(const std::vector<json>& rss) {
  std::int64_t most = 0;
  for (const json& rs : rss)
    most = std::max(most, revisionOf(rs));
  return most;
}

bool setNewReplicaSetAnnotations(const json& d, json& rs, const std::string& newRevision,
                                 bool exists) {
  static const std::vector<std::string_view> skipped = {
      "kubectl.kubernetes.io/last-applied-configuration",
      kRevisionAnnotation,
      kRevisionHistoryAnnotation,
      kDesiredReplicasAnnotation,
      kMaxReplicasAnnotation,
      "deprecated.deployment.rollback.to"};
  bool changed = false;
  for (const auto& [k, v] : kubeapi::annotationsOf(d)) {
    if (std::ranges::find(skipped, k) != skipped.end()) continue;
    if (kubeapi::annotationOf(rs, k) == std::optional<std::string_view>(v)) continue;
    kubeapi::setAnnotation(rs, k, v);
    changed = true;
  }
  auto oldRevision = kubeapi::annotationOf(rs, kRevisionAnnotation);
  std::string old = oldRevision ? std::string(*oldRevision) : "";
  std::optional<std::int64_t> oldInt = old.empty() ? std::optional<std::int64_t>(0) : parseInt(old);
  auto newInt = parseInt(newRevision);
  if (!oldInt || !newInt) return changed;  // upstream logs and leaves it
  if (*oldInt < *newInt) {
    kubeapi::setAnnotation(rs, kRevisionAnnotation, newRevision);
    changed = true;
    // A set that had a revision gets a newer one: a rollback to it. Keep where it was.
    if (oldRevision) {
      std::string history(kubeapi::annotationOf(rs, kRevisionHistoryAnnotation).value_or(""));
      if (history.empty()) {
        kubeapi::setAnnotation(rs, kRevisionHistoryAnnotation, old);
      } else {
        std::vector<std::string> revisions;
        for (size_t start = 0;;) {
          size_t comma = history.find(',', start);
          revisions.push_back(history.substr(start, comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        size_t total = history.size() + old.size() + 1;
        size_t first = 0;
        while (total > kMaxRevisionHistoryLength && first < revisions.size())
          total -= revisions[first++].size() + 1;
        if (total <= kMaxRevisionHistoryLength) {
          std::string joined;
          for (size_t i = first; i < revisions.size(); ++i)
            joined += revisions[i] + ",";
          kubeapi::setAnnotation(rs, kRevisionHistoryAnnotation, joined + old);
        }
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d)))
    changed = true;
  return changed;
}

bool setReplicasAnnotations(json& rs, std::int32_t desired, std::int32_t max) {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  kubeapi::setAnnotation(rs, kDesiredReplicasAnnotation, std::to_string(desired));
  kubeapi::setAnnotation(rs, kMaxReplicasAnnotation, std::to_string(max));
  return true;
}

bool replicasAnnotationsNeedUpdate(const json& rs, std::int32_t desired, std::int32_t max) {
  return kubeapi::annotationOf(rs, kDesiredReplicasAnnotation) != std::to_string(desired) ||
         kubeapi::annotationOf(rs, kMaxReplicasAnnotation) != std::to_string(max);
}

std::optional<std::int32_t> desiredReplicasAnnotation(const json& rs) {
  auto v = kubeapi::annotationOf(rs, kDesiredReplicasAnnotation);
  if (!v) return std::nullopt;
  auto parsed = parseInt(*v);
  if (!parsed) return std::nullopt;
  return static_cast<std::int32_t>(*parsed);
}

std::int32_t replicaCount(const std::vector<json>& rss) {
  return sum(rss, [](const json& rs) { return specReplicas(rs); });
}
std::int32_t actualReplicaCount(const std::vector<json>& rss) {
  return sum(rss, [](const json& rs) { return statusInt(rs, "replicas"); });
}
std::int32_t readyReplicaCount(const std::vector<json>& rss) {
  return sum(rss, [](const json& rs) { return statusInt(rs, "readyReplicas"); });
}
std::int32_t availableReplicaCount(const std::vector<json>& rss) {
  return sum(rss, [](const json& rs) { return statusInt(rs, "availableReplicas"); });
}

std::vector<json> activeReplicaSets(const std::vector<json>& rss) {
  std::vector<json> active;
  for (const json& rs : rss)
    if (specReplicas(rs) > 0) active.push_back(rs);
  return active;
}

Result<std::int32_t> newRSNewReplicas(const json& d, const std::vector<json>& allRSs,
                                      const json& newRS) {
  if (!isRollingUpdate(d)) return specReplicas(d);
  auto surge = BERTH_TRY(scaledValue(jsonField(rollingUpdate(d), "maxSurge").is_null()
                                         ? json(0)
                                         : jsonField(rollingUpdate(d), "maxSurge"),
                                     specReplicas(d), true));
  std::int32_t current = replicaCount(allRSs);
  std::int32_t maxTotal = specReplicas(d) + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  std::int32_t scaleUp = std::min(maxTotal - current, specReplicas(d) - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

std::int32_t proportion(const json& rs, const json& d, std::int32_t toAdd, std::int32_t added) {
  if (specReplicas(rs) == 0 || toAdd == 0 || toAdd == added) return 0;
  // getReplicaSetFraction
  std::int32_t fraction;
  if (specReplicas(d) == 0) {
    fraction = -specReplicas(rs);
  } else {
    std::int32_t deploymentReplicas = specReplicas(d) + maxSurge(d);
    std::optional<std::int64_t> annotated;
    if (auto v = kubeapi::annotationOf(rs, kMaxReplicasAnnotation)) annotated = parseInt(*v);
    std::int64_t base = annotated.value_or(statusInt(d, "replicas"));
    double size = base == 0 ? 0.0
                            : static_cast<double>(specReplicas(rs)) * deploymentReplicas /
                                  static_cast<double>(base);
    fraction = static_cast<std::int32_t>(std::round(size)) - specReplicas(rs);
  }
  std::int32_t allowed = toAdd - added;
  return toAdd > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

bool isSaturated(const json& d, const json* rs) {
  if (!rs) return false;
  auto desired = desiredReplicasAnnotation(*rs);
  if (!desired) return false;
  return specReplicas(*rs) == specReplicas(d) && *desired == specReplicas(d) &&
         statusInt(*rs, "availableReplicas") == specReplicas(d);
}

void sortByCreation(std::vector<json>& rss, bool newestFirst) {
  std::stable_sort(rss.begin(), rss.end(), [&](const json& a, const json& b) {
    return newestFirst ? createdBefore(b, a) : createdBefore(a, b);
  });
}

void sortByRevision(std::vector<json>& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const json& a, const json& b) {
    if (revisionOf(a) != revisionOf(b)) return revisionOf(a) < revisionOf(b);
    return createdBefore(a, b);
  });
}

void sortBySize(std::vector<json>& rss, bool newerFirst) {
  std::stable_sort(rss.begin(), rss.end(), [&](const json& a, const json& b) {
    if (specReplicas(a) != specReplicas(b)) return specReplicas(a) > specReplicas(b);
    return newerFirst ? createdBefore(b, a) : createdBefore(a, b);
  });
}

json newCondition(std::string_view type, std::string_view status, std::string_view reason,
                  std::string message, kubeapi::Time now) {
  std::string t = kubeapi::formatTime(now);
  return {{"type", type},        {"status", status},
          {"lastUpdateTime", t}, {"lastTransitionTime", t},
          {"reason", reason},    {"message", std::move(message)}};
}

const json* getCondition(const json& status, std::string_view type) {
  for (const json& c : kubeapi::jsonArray(status, "conditions"))
    if (jsonString(c, "type") == type) return &c;
  return nullptr;
}

void setCondition(json& status, json condition) {
  std::string type = jsonString(condition, "type");
  if (const json* current = getCondition(status, type)) {
    if (jsonString(*current, "status") == jsonString(condition, "status")) {
      if (jsonString(*current, "reason") == jsonString(condition, "reason")) return;
      condition["lastTransitionTime"] = (*current)["lastTransitionTime"];
    }
  }
  removeCondition(status, type);
  status["conditions"].push_back(std::move(condition));
}

void removeCondition(json& status, std::string_view type) {
  if (!status.contains("conditions")) return;
  json kept = json::array();
  for (const json& c : kubeapi::jsonArray(status, "conditions"))
    if (jsonString(c, "type") != type) kept.push_back(c);
  status["conditions"] = std::move(kept);
}

json calculateStatus(const std::vector<json>& allRSs, const json* newRS, const json& d,
                     kubeapi::Time now) {
  std::int32_t available = availableReplicaCount(allRSs);
  std::int32_t unavailable = std::max(0, replicaCount(allRSs) - available);
  json status = {{"observedGeneration", kubeapi::generationOf(d)},
                 {"replicas", actualReplicaCount(allRSs)},
                 {"updatedReplicas", newRS ? statusInt(*newRS, "replicas") : 0},
                 {"readyReplicas", readyReplicaCount(allRSs)},
                 {"availableReplicas", available},
                 {"unavailableReplicas", unavailable},
                 {"conditions", kubeapi::jsonArray(statusOf(d), "conditions")}};
  if (const json& c = jsonField(statusOf(d), "collisionCount"); c.is_number_integer())
    status["collisionCount"] = c;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition("Available", "True", kMinimumReplicasAvailable,
                                      "Deployment has minimum availability.", now));
  } else {
    setCondition(status, newCondition("Available", "False", kMinimumReplicasUnavailable,
                                      "Deployment does not have minimum availability.", now));
  }
  return status;
}

bool hasProgressDeadline(const json& d) {
  const json& v = jsonField(specOf(d), "progressDeadlineSeconds");
  return v.is_number_integer() && v.get<std::int64_t>() != INT32_MAX;
}

bool deploymentComplete(const json& d, const json& newStatus) {
  std::int32_t replicas = specReplicas(d);
  return intField(newStatus, "updatedReplicas") == replicas &&
         intField(newStatus, "replicas") == replicas &&
         intField(newStatus, "availableReplicas") == replicas &&
         intField(newStatus, "observedGeneration") >= kubeapi::generationOf(d);
}

bool deploymentProgressing(const json& d, const json& newStatus) {
  const json& old = statusOf(d);
  auto oldOld = intField(old, "replicas") - intField(old, "updatedReplicas");
  auto newOld = intField(newStatus, "replicas") - intField(newStatus, "updatedReplicas");
  return intField(newStatus, "updatedReplicas") > intField(old, "updatedReplicas") ||
         newOld < oldOld || intField(newStatus, "readyReplicas") > intField(old, "readyReplicas") ||
         intField(newStatus, "availableReplicas") > intField(old, "availableReplicas");
}

bool deploymentTimedOut(const json& d, const json& newStatus, kubeapi::Time now) {
  if (!hasProgressDeadline(d)) return false;
  const json* c = getCondition(newStatus, "Progressing");
  if (!c) return false;
  std::string reason = jsonString(*c, "reason");
  if (reason == kNewRSAvailableReason) return false;
  if (reason == kTimedOutReason) return true;
  auto from = timeField(*c, "lastUpdateTime");
  if (!from) return false;
  return *from + std::chrono::seconds(intField(specOf(d), "progressDeadlineSeconds")) < now;
}

}  // namespace berth::controlplane::controllers::deployment
