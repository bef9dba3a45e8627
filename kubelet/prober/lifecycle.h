#pragma once
// Lifecycle hooks (pkg/kubelet/lifecycle/handlers.go and kuberuntime's startContainer /
// killContainer): postStart runs right after StartContainer and a failure kills the container;
// preStop runs before StopContainer, and its time comes out of the grace period. Handlers: exec
// (CRI ExecSync), httpGet (any HTTP response is a success; an HTTPS hook answered in plain HTTP
// is retried as HTTP) and sleep.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/clock.h"
#include "kubelet/prober/probe_types.h"

namespace berth::kubelet::prober {

// The reason of the kill (and event) after a failed postStart.
inline constexpr const char* kFailedPostStartHookReason = "FailedPostStartHook";
// The container's waiting reason after it (ErrPostStartHook), with runPostStart's message.
inline constexpr const char* kPostStartHookErrorReason = "PostStartHookError";
// The warning event of a failed preStop (the stop goes on).
inline constexpr const char* kFailedPreStopHookReason = "FailedPreStopHook";
// minimumGracePeriodInSeconds: what StopContainer gets at least.
inline constexpr std::chrono::seconds kMinimumGracePeriod{2};

struct HookTarget {
  const nlohmann::json& pod;
  const nlohmann::json& container;  // the spec, with .lifecycle
  std::string containerId;
  std::string podIp;  // the pod's first IP: an httpGet hook's default host
};

// The seams: ExecSync and the clock (the sleep handler sleeps on it, preStop measures with it).
struct HookRunner {
  ExecFunction exec;
  kubeapi::Clock* clock = nullptr;  // null: the real steady clock
};

// One LifecycleHandler (handlerRunner.Run), given at most `timeout` (0: no limit). The error's
// message is upstream's ("Exec lifecycle hook ([cmd]) for Container \"c\" in Pod
// \"name_ns(uid)\" failed - error: ..., message: ...").
[[nodiscard]] Status runLifecycleHandler(const nlohmann::json& handler, const HookTarget& target,
                                         const HookRunner& runner, std::chrono::seconds timeout);

// The container's postStart hook, if it has one. On an error the caller kills the container
// (reason kFailedPostStartHookReason, with the pod's grace: preStop runs) and reports it waiting
// with kPostStartHookErrorReason and the error's message.
[[nodiscard]] Status runPostStart(const HookTarget& target, const HookRunner& runner);

// The container's preStop hook, if it has one and `grace` > 0, cut off when `grace` is spent.
// Returns the grace to pass to StopContainer: what is left, at least kMinimumGracePeriod. A
// failed hook is logged and, when `failure` is given, stored there (for the FailedPreStopHook
// event); the stop goes on either way.
std::chrono::seconds runPreStop(const HookTarget& target, const HookRunner& runner,
                                std::chrono::seconds grace,
                                std::optional<Error>* failure = nullptr);

// The grace of a container kill (setTerminationGracePeriod): the pod's
// deletionGracePeriodSeconds; else, for a kill after a failed liveness or startup probe, that
// probe's terminationGracePeriodSeconds; else the pod's terminationGracePeriodSeconds; else 2.
std::int64_t killGracePeriod(const nlohmann::json& pod, const nlohmann::json& container,
                             std::optional<ProbeType> failedProbe = std::nullopt);

}  // namespace berth::kubelet::prober
