#pragma once
// CreateContainer's pure part: the OCI runtime spec of a container built from the CRI request
// (ContainerConfig + the pod's PodSandboxConfig), the image config and what the caller knows
// about the pod and the node, with containerd's CRI plugin as the model
// (pkg/cri/server/container_create_linux.go, pkg/cri/opts/spec_*.go, oci/spec_opts.go).
//
// It reads, never writes: the rootfs's /etc/passwd and /etc/group, the host's mountinfo (mount
// propagation checks), device nodes, the AppArmor profile list and a Localhost seccomp file.
// Directories to create (image volumes, missing hostPath sources) are returned to the caller.
//
// The CRI types are only declared here, so including this header does not pull in api.pb.h.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"
#include "shim/cgroup_driver.h"

namespace runtime::v1 {
class ContainerConfig;
class LinuxContainerResources;
class PodSandboxConfig;
}  // namespace runtime::v1

namespace berth::cri {

// The image-spec config fields a container is built from (image-spec config.md "config"); the
// images library fills it from the image's config blob.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // KEY=value
  std::string workingDir;
  std::string user;                  // "uid", "uid:gid", "name", "name:group" or empty
  std::vector<std::string> volumes;  // destinations
  std::string stopSignal;
};

// The pod's pinned namespaces and files, as RunPodSandbox left them.
struct PodFacts {
  std::string sandboxId;
  // nsfs bind mounts to join. network/ipc are required unless the pod uses the node's; uts empty
  // means the node's (hostNetwork pods); pid is the pod's shared PID namespace (PID mode POD).
  std::string netnsPath;
  std::string ipcnsPath;
  std::string utsnsPath;
  std::string pidnsPath;
  // PID mode TARGET (ephemeral containers): the target container's PID namespace.
  std::string targetPidnsPath;
  // Files bind mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf; an empty path is not
  // mounted. shmPath is the pod's /dev/shm (empty: the container gets a fresh tmpfs).
  std::string hostnamePath;
  std::string hostsPath;
  std::string resolvConfPath;
  std::string shmPath;
};

// What the caller knows about the node; the defaults describe an unconfigured host.
struct HostFacts {
  CgroupDriver cgroupDriver = CgroupDriver::kCgroupfs;
  bool cgroupV2Unified = false;  // a cgroup namespace per container (containerd, v2 only)
  bool swapControllerAvailable = false;
  bool hugetlbControllerAvailable = false;
  bool seccompEnabled = true;
  bool appArmorEnabled = false;
  bool seLinuxEnabled = false;
  // containerd's disable_proc_mount: keep the default masked/readonly paths whatever the request.
  bool disableProcMount = false;
  // The floor of a container's oom_score_adj. Where the daemon can't lower its own (no
  // CAP_SYS_RESOURCE, as on our VMs) the caller passes /proc/self/oom_score_adj and a lower
  // request is raised to it (containerd's restrict_oom_score_adj); -1000 restricts nothing.
  int minOomScoreAdj = -1000;
  // Node hostname, for HOSTNAME when the pod has none.
  std::string nodeHostname;
  // The runtime's default seccomp profile (SecurityProfile RuntimeDefault): the object, else
  // read from the file (a linux.seccomp JSON object), else RuntimeDefault is an error.
  std::optional<ocispec::Seccomp> defaultSeccomp;
  std::filesystem::path defaultSeccompFile;
  std::string appArmorDefaultProfile = "berth-default";
  std::filesystem::path appArmorProfilesFile = "/sys/kernel/security/apparmor/profiles";
  std::filesystem::path mountInfoFile = "/proc/self/mountinfo";
  // Root of the host's device nodes (privileged containers get all of them).
  std::string hostDevRoot = "/dev";
  // Capabilities a privileged container gets (containerd: the daemon's bounding set).
  std::vector<std::string> allCapabilities;
  // Pod annotations copied into the container's spec: glob patterns (fnmatch), as the
  // pod_annotations of a containerd runtime handler. Container annotations always pass.
  std::vector<std::string> podAnnotationPatterns;
  // containerd's device_ownership_from_security_context: CRI devices are owned by a non-zero
  // run_as_user / run_as_group instead of the host node's owner.
  bool deviceOwnershipFromSecurityContext = false;
};

struct ContainerSpecInput {
  std::string containerId;
  const ::runtime::v1::ContainerConfig* config = nullptr;
  const ::runtime::v1::PodSandboxConfig* sandboxConfig = nullptr;
  ImageConfig image;
  std::string imageName;  // io.kubernetes.cri.image-name
  std::filesystem::path rootfs;
  // The container's directory under the CRI root: image volumes get <containerDir>/volumes/<x>.
  std::filesystem::path containerDir;
  PodFacts pod;
  HostFacts host;
};

struct ContainerSpec {
  ocispec::Spec spec;
  // Host directories the caller creates (0755) before the runtime's create: image volume
  // sources and CRI mount sources that do not exist yet (containerd creates them too).
  std::vector<std::string> hostDirsToCreate;
};

// Errors are kInvalidArgument (or kFailedPrecondition for what the host can't do) and name the
// CRI field: `run_as_username "nobody2": no such user in /etc/passwd`.
[[nodiscard]] Result<ContainerSpec> buildContainerSpec(const ContainerSpecInput& in);

// linux.resources (cpu, memory, hugepages, unified) from CRI resources, for CreateContainer and
// UpdateContainerResources. Errors name the field.
[[nodiscard]] Result<ocispec::Resources> resourcesFromCri(
    const ::runtime::v1::LinuxContainerResources& resources, const HostFacts& host);

// The OCI env merge containerd uses (oci.WithEnv): a KEY=value replaces the entry of the same key
// in place or is appended; a bare KEY removes it.
std::vector<std::string> mergeEnv(std::vector<std::string> base,
                                  const std::vector<std::string>& overrides);

// A seccomp profile file (the runtime-spec linux.seccomp object, as containerd's Localhost).
[[nodiscard]] Result<ocispec::Seccomp> loadSeccompProfile(const std::filesystem::path& file);
// Sorts mounts so that a parent comes before its children: a stable sort by the number of path
// components of the cleaned destination (containerd's orderedMounts).
void sortMountsByDepth(std::vector<ocispec::Mount>& mounts);

}  // namespace berth::cri
