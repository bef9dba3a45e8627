#include "kubelet/prober/lifecycle.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kubeapi/go_format.h"
#include "kubeapi/json_fields.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/pod_events.h"
#include "kubelet/prober/http_probe.h"
#include "kubelet/prober/probe_worker.h"

namespace berth::kubelet::prober {

using kubeapi::goQuote;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using Json = nlohmann::json;

namespace {

kubeapi::Clock& clockOf(const HookRunner& runner) {
  return runner.clock ? *runner.clock : kubeapi::RealClock::instance();
}

// The exec handler: a non-zero exit is an error, as the CRI client's ExecSync makes it upstream.
Status runExec(const Json& exec, const HookTarget& target, const HookRunner& runner,
               std::chrono::seconds timeout) {
  std::vector<std::string> cmd;
  for (const auto& a : jsonArray(exec, "command"))
    cmd.push_back(a.is_string() ? a.get<std::string>() : "");
  std::string error, output;
  auto res = runner.exec(target.containerId, cmd, timeout);
  if (!res) {
    error = res.error().message();
  } else if (res->exitCode != 0) {
    error = fmt::format("command '{}' exited with {}: {}", fmt::join(cmd, " "), res->exitCode,
                        res->stderrData);
    output = res->stdoutData + res->stderrData;
  } else {
    return {};
  }
  return fail(Code::kUnknown,
              "Exec lifecycle hook ([{}]) for Container {} in Pod {} failed - error: {}, "
              "message: {}",
              fmt::join(cmd, " "), goQuote(jsonString(target.container, "name")),
              goQuote(podDescription(target.pod)), error, goQuote(output));
}

// The httpGet handler: any response will do; only not getting one fails.
Status runHttp(const Json& action, const HookTarget& target, std::chrono::seconds timeout) {
  auto attempt = [&]() -> Status {
    if (jsonString(action, "host").empty() && target.podIp.empty()) {
      return fail(Code::kUnavailable, "failed to find networking container: the pod has no IP");
    }
    auto req = BERTH_TRY(newHttpGetRequest(action, target.container, target.podIp, "lifecycle"));
    HttpGetFailure failure;
    auto res = httpGet(req, timeout, &failure);
    if (res || failure != HttpGetFailure::kPlainHttpFromHttpsServer) {
      return res ? Status{} : std::unexpected(res.error());
    }
    // An HTTPS hook answered in plain HTTP: once more as HTTP, without credentials
    // (LifecycleHTTPFallback upstream).
    kubeletLog()->warn("HTTPS lifecycle hook got an HTTP response, retrying with HTTP [url={}]",
                       req.url);
    req.url.replace(0, req.url.find(':'), "http");
    std::erase_if(req.headers, [](const auto& h) { return h.first == "Authorization"; });
    auto again = httpGet(req, timeout);
    return again ? Status{} : std::unexpected(res.error());
  };
  if (auto st = attempt(); !st) {
    return fail(Code::kUnknown,
                "HTTP lifecycle hook ({}) for Container {} in Pod {} failed - error: {}",
                jsonString(action, "path"), goQuote(jsonString(target.container, "name")),
                goQuote(podDescription(target.pod)), st.error().message());
  }
  return {};
}

}  // namespace

Status runLifecycleHandler(const Json& handler, const HookTarget& target, const HookRunner& runner,
                           std::chrono::seconds timeout) {
  if (const Json& exec = jsonField(handler, "exec"); exec.is_object()) {
    return runExec(exec, target, runner, timeout);
  }
  if (const Json& httpGet = jsonField(handler, "httpGet"); httpGet.is_object()) {
    return runHttp(httpGet, target, timeout);
  }
  if (const Json& sleep = jsonField(handler, "sleep"); sleep.is_object()) {
    const Json& seconds = jsonField(sleep, "seconds");
    std::chrono::seconds d(seconds.is_number_integer() ? seconds.get<std::int64_t>() : 0);
    if (timeout > std::chrono::seconds::zero()) d = std::min(d, timeout);
    clockOf(runner).sleepFor(d);
    return {};
  }
  return fail(Code::kInvalidArgument, "Cannot run handler: invalid handler: {}", handler.dump());
}

Status runPostStart(const HookTarget& target, const HookRunner& runner) {
  const Json& hook = jsonField(jsonField(target.container, "lifecycle"), "postStart");
  if (!hook.is_object()) return {};
  // Upstream gives postStart no time limit; the CRI client's own deadline still bounds an exec.
  return runLifecycleHandler(hook, target, runner, std::chrono::seconds::zero());
}

std::chrono::seconds runPreStop(const HookTarget& target, const HookRunner& runner,
                                std::chrono::seconds grace, std::optional<Error>* failure) {
  const Json& hook = jsonField(jsonField(target.container, "lifecycle"), "preStop");
  if (hook.is_object() && grace > std::chrono::seconds::zero()) {
    kubeapi::Clock& clock = clockOf(runner);
    const auto start = clock.now();
    if (auto st = runLifecycleHandler(hook, target, runner, grace); !st) {
      kubeletLog()->warn("PreStop hook failed [ctr={}]: {}", target.containerId,
                         st.error().message());
      if (failure) *failure = st.error();
    }
    // Whole seconds spent, as int64(time.Since(start).Seconds()).
    grace -= std::chrono::duration_cast<std::chrono::seconds>(clock.now() - start);
  }
  return std::max(grace, kMinimumGracePeriod);
}

std::int64_t killGracePeriod(const Json& pod, const Json& container,
                             std::optional<ProbeType> failedProbe) {
  const Json& deletionGrace = jsonField(jsonField(pod, "metadata"), "deletionGracePeriodSeconds");
  if (deletionGrace.is_number_integer()) return deletionGrace.get<std::int64_t>();
  const Json& podGrace = jsonField(jsonField(pod, "spec"), "terminationGracePeriodSeconds");
  if (!podGrace.is_number_integer()) return kMinimumGracePeriod.count();
  if (failedProbe == ProbeType::kLiveness || failedProbe == ProbeType::kStartup) {
    const Json& probeGrace = jsonField(jsonField(container, probeSpecField(*failedProbe)),
                                       "terminationGracePeriodSeconds");
    if (probeGrace.is_number_integer()) return probeGrace.get<std::int64_t>();
  }
  return podGrace.get<std::int64_t>();
}

}  // namespace berth::kubelet::prober
