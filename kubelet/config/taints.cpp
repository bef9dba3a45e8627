#include "kubelet/config/taints.h"

#include <fmt/ranges.h>

#include "kubeapi/validation.h"

namespace berth::kubelet {

namespace {

Status checkEffect(std::string_view effect) {
  if (effect == "NoSchedule" || effect == "PreferNoSchedule" || effect == "NoExecute") return {};
  return fail(Code::kInvalidArgument, "invalid taint effect: {}, unsupported taint effect", effect);
}

Status checkKeyValue(const Taint& taint, std::string_view spec) {
  if (auto errs = kubeapi::isQualifiedName(taint.key); !errs.empty())
    return fail(Code::kInvalidArgument, "invalid taint spec: {}, {}", spec, fmt::join(errs, "; "));
  if (auto errs = kubeapi::isValidLabelValue(taint.value); !errs.empty())
    return fail(Code::kInvalidArgument, "invalid taint spec: {}, {}", spec, fmt::join(errs, "; "));
  return {};
}

}  // namespace

Result<Taint> parseTaint(std::string_view spec) {
  Taint taint;
  std::string_view keyValue = spec;
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    if (spec.find(':', colon + 1) != std::string_view::npos)
      return fail(Code::kInvalidArgument, "invalid taint spec: {}", spec);
    taint.effect = spec.substr(colon + 1);
    BERTH_TRY(checkEffect(taint.effect));
    keyValue = spec.substr(0, colon);
    if (size_t eq = keyValue.find('='); eq != std::string_view::npos) {
      if (keyValue.find('=', eq + 1) != std::string_view::npos)
        return fail(Code::kInvalidArgument, "invalid taint spec: {}", spec);
      taint.value = keyValue.substr(eq + 1);
      keyValue = keyValue.substr(0, eq);
    }
  }
  taint.key = keyValue;
  BERTH_TRY(checkKeyValue(taint, spec));
  return taint;
}

Result<std::vector<Taint>> parseTaints(std::string_view specs) {
  std::vector<Taint> taints;
  size_t start = 0;
  while (true) {
    size_t comma = specs.find(',', start);
    taints.push_back(BERTH_TRY(parseTaint(specs.substr(start, comma - start))));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return taints;
}

Status checkTaint(const Taint& taint) {
  std::string spec = taint.value.empty() ? taint.key : fmt::format("{}={}", taint.key, taint.value);
  if (!taint.effect.empty()) {
    spec += ":" + taint.effect;
    BERTH_TRY(checkEffect(taint.effect));
  }
  return checkKeyValue(taint, spec);
}

}  // namespace berth::kubelet
