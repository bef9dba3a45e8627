#pragma once
// Runs runtime-spec hooks in the runtime's namespaces (prestart, createRuntime, poststart,
// poststop) with the container's state on stdin.

#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::runtime {

// Runs hooks in order; the first failure stops the list. `kind` names the list in errors
// ("createRuntime"), as runc's "error running createRuntime hook #1: ...".
[[nodiscard]] Status runHooks(const std::vector<ocispec::Hook>& hooks, const std::string& kind,
                              const std::string& stateJson);

}  // namespace berth::runtime
