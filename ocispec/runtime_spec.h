#pragma once
// OCI runtime-spec 1.2 (config.md, config-linux.md, runtime.md) as C++ types. Field names follow
// the JSON property names; OPTIONAL properties are std::optional or empty containers.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::ocispec {

inline constexpr const char* kOciVersion = "1.2.0";

struct Root {
  std::string path;  // REQUIRED
  bool readonly = false;
};

struct IdMapping {  // config-linux.md "User namespace mappings"
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;  // REQUIRED, absolute on Linux
  std::optional<std::string> source;
  std::vector<std::string> options;
  std::optional<std::string> type;
  std::vector<IdMapping> uidMappings;  // idmapped mounts
  std::vector<IdMapping> gidMappings;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Rlimit {
  std::string type;  // RLIMIT_*
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Capabilities {
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> inheritable;
  std::vector<std::string> permitted;
  std::vector<std::string> ambient;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additionalGids;
  std::optional<std::string> username;
};

struct Scheduler {
  std::string policy;  // REQUIRED in the object: SCHED_OTHER, SCHED_FIFO, ...
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;
};

struct IoPriority {
  std::string ioClass;  // JSON "class": IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE
  int32_t priority = 0;
};

struct ExecCpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final;  // JSON "final"
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::vector<std::string> args;  // at least one entry on Linux
  std::vector<std::string> env;
  std::string cwd;  // REQUIRED, absolute
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::optional<std::string> apparmorProfile;
  std::optional<int32_t> oomScoreAdj;
  std::optional<Scheduler> scheduler;
  std::optional<std::string> selinuxLabel;
  std::optional<IoPriority> ioPriority;
  std::optional<ExecCpuAffinity> execCPUAffinity;
};

struct Hook {
  std::string path;  // REQUIRED, absolute
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int32_t> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart;  // deprecated but still run, as runc does
  std::vector<Hook> createRuntime;
  std::vector<Hook> createContainer;
  std::vector<Hook> startContainer;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::optional<std::string> path;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Device {
  std::string type;   // c, b, u or p
  std::string path;   // REQUIRED
  int64_t major = 0;  // REQUIRED for c, b, u
  int64_t minor = 0;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceCgroup {
  bool allow = false;               // REQUIRED
  std::optional<std::string> type;  // a, c or b
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;  // subset of "rwm"
};

struct Memory {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller;
  std::optional<bool> useHierarchy;
  std::optional<bool> checkBeforeUpdate;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<bool> idle;  // JSON is an int64 (0/1) in the spec; kept as 0/1 semantics
};

struct Pids {
  int64_t limit = 0;  // REQUIRED in the object
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIO {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  std::vector<WeightDevice> weightDevice;
  std::vector<ThrottleDevice> throttleReadBpsDevice;
  std::vector<ThrottleDevice> throttleWriteBpsDevice;
  std::vector<ThrottleDevice> throttleReadIOPSDevice;
  std::vector<ThrottleDevice> throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;  // e.g. "2MB"
  uint64_t limit = 0;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  std::optional<uint32_t> classID;
  std::vector<NetworkPriority> priorities;
};

struct Rdma {
  std::optional<uint32_t> hcaHandles;
  std::optional<uint32_t> hcaObjects;
};

struct Resources {
  std::vector<DeviceCgroup> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<Pids> pids;
  std::optional<BlockIO> blockIO;
  std::vector<HugepageLimit> hugepageLimits;
  std::optional<Network> network;
  std::map<std::string, Rdma> rdma;
  std::map<std::string, std::string> unified;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  std::optional<uint64_t> valueTwo;
  std::string op;  // SCMP_CMP_*
};

struct SeccompSyscall {
  std::vector<std::string> names;  // REQUIRED, non-empty
  std::string action;              // REQUIRED, SCMP_ACT_*
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string defaultAction;  // REQUIRED
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::optional<std::string> listenerPath;
  std::optional<std::string> listenerMetadata;
  std::vector<SeccompSyscall> syscalls;
};

struct Personality {
  std::string domain;  // LINUX or LINUX32
  std::vector<std::string> flags;
};

struct IntelRdt {
  std::optional<std::string> closID;
  std::optional<std::string> l3CacheSchema;
  std::optional<std::string> memBwSchema;
  bool enableCMT = false;
  bool enableMBM = false;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::map<std::string, TimeOffset> timeOffsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::optional<std::string> cgroupsPath;
  std::optional<Resources> resources;
  std::optional<std::string> rootfsPropagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::optional<std::string> mountLabel;
  std::optional<Personality> personality;
  std::optional<IntelRdt> intelRdt;
};

struct Spec {
  std::string ociVersion;  // REQUIRED
  std::optional<Process> process;
  std::optional<Root> root;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;

  // The namespace entry of `type`, or nullptr when the config does not list it.
  const Namespace* findNamespace(std::string_view type) const;
};

// runtime.md "State".
struct State {
  std::string ociVersion;
  std::string id;
  std::string status;  // creating, created, running, stopped
  int pid = 0;         // REQUIRED when created or running
  std::string bundle;
  std::map<std::string, std::string> annotations;
};

}  // namespace berth::ocispec
