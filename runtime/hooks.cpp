#include "runtime/hooks.h"

#include "common/spawn.h"

namespace berth::runtime {

Status runHooks(const std::vector<ocispec::Hook>& hooks, const std::string& kind,
                const std::string& stateJson) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const ocispec::Hook& h = hooks[i];
    SpawnOptions o;
    o.path = h.path;
    o.args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    o.env = h.env;
    o.stdinData = stateJson;
    if (h.timeout) o.timeout = std::chrono::seconds(*h.timeout);
    auto r = runProgram(o);
    std::string where = fmt::format("error running {} hook #{}", kind, i);
    if (!r) return std::unexpected(std::move(r).error().context(where));
    if (!r->status.success())
      return fail(Code::kFailedPrecondition, "{}: {} exited with status {}", where, h.path,
                  r->status.code);
  }
  return {};
}

}  // namespace berth::runtime
