#pragma once
// Turns a validated OCI spec (and the command's flags) into the InitPlan the child executes.
// Everything that can be decided or rejected before forking is decided here, with errors that name
// the config field.

#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"
#include "runtime/cgroup_manager.h"
#include "runtime/init_plan.h"

namespace berth::runtime {

struct CreateInputs {
  std::string bundle;  // absolute
  std::string id;
  bool noPivot = false;
  bool noNewKeyring = false;
  int preservedFds = 0;               // fds 3.. kept for the process (LISTEN_FDS + --preserve-fds)
  std::vector<std::string> extraEnv;  // LISTEN_FDS/LISTEN_PID when passed
  const CgroupManager* cgroups = nullptr;
};

[[nodiscard]] Result<InitPlan> buildCreatePlan(const ocispec::Spec& spec, const CreateInputs& in);

// A detached clone of the source tree of bind mount `index` of the plan, for the init to attach.
[[nodiscard]] Result<UniqueFd> cloneMountSource(const InitPlan& plan, size_t index);

// A process joining a running container: `namespaces` are the /proc/<pid>/ns/<type> files to
// join, as (CLONE_NEW* type, path).
[[nodiscard]] Result<InitPlan> buildExecPlan(const ocispec::Process& process,
                                             const std::vector<NamespacePlan::Join>& namespaces,
                                             int preservedFds);

// The process part, shared by create and exec. `field` prefixes error messages ("process").
[[nodiscard]] Result<ProcessPlan> buildProcessPlan(const ocispec::Process& process,
                                                   const std::string& field);

// Points argv/envp at the plan's strings. Call once the plan has reached its final address
// (moving a std::string may move its characters).
void linkPointers(InitPlan& plan);

// Whether this host runs the LSM (for the spec's labels and for `features`).
bool appArmorEnabled();
bool seLinuxEnabled();

// CLONE_NEW* for a runtime-spec namespace type, or 0.
int namespaceFlag(const std::string& type);
// The /proc/<pid>/ns/<name> file name for a runtime-spec namespace type.
const char* namespaceProcName(const std::string& type);

}  // namespace berth::runtime
