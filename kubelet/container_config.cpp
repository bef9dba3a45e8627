#include "kubelet/container_config.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "common/file_util.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/pod_qos.h"
#include "kubeapi/quantity.h"
#include "kubelet/pod_actions.h"
#include "kubelet/pod_resources.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonBool;
using kubeapi::jsonField;
using kubeapi::jsonString;

// The kubelet's defaults for procMount Default (securitycontext.DefaultProcMountMaskedPaths).
constexpr const char* kMaskedPaths[] = {"/proc/asound",
                                        "/proc/acpi",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/proc/sched_debug",
                                        "/proc/scsi",
                                        "/sys/firmware",
                                        "/sys/devices/virtual/powercap"};
constexpr const char* kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                          "/proc/sysrq-trigger"};

// Pods at or above this priority are node-critical (system-node-critical's 2000001000).
constexpr std::int64_t kCriticalPodPriority = 2000000000;

const Json& metaOf(const Json& pod) {
  return jsonField(pod, "metadata");
}
const Json& specOf(const Json& pod) {
  return jsonField(pod, "spec");
}

void copyStringMap(const Json& from, google::protobuf::Map<std::string, std::string>& to) {
  for (const auto& [k, v] : from.items())
    if (v.is_string()) to[k] = v.get<std::string>();
}

cri::Protocol protocolOf(const std::string& p) {
  if (p == "UDP") return cri::UDP;
  if (p == "SCTP") return cri::SCTP;
  return cri::TCP;
}

// A field of the container's securityContext, else the pod's (the effective context).
const Json& effective(const Json& pod, const Json& container, std::string_view key) {
  const Json& c = jsonField(jsonField(container, "securityContext"), key);
  return c.is_null() ? jsonField(jsonField(specOf(pod), "securityContext"), key) : c;
}

Result<cri::SecurityProfile> seccompProfile(const Json& profile, const std::string& where) {
  cri::SecurityProfile out;
  const std::string type = jsonString(profile, "type");
  if (type.empty() || type == "Unconfined") {
    out.set_profile_type(cri::SecurityProfile::Unconfined);
  } else if (type == "RuntimeDefault") {
    out.set_profile_type(cri::SecurityProfile::RuntimeDefault);
  } else if (type == "Localhost") {
    out.set_profile_type(cri::SecurityProfile::Localhost);
    // Relative to the kubelet's seccomp dir, as upstream (<root-dir>/seccomp).
    out.set_localhost_ref(jsonString(profile, "localhostProfile"));
  } else {
    return fail(Code::kInvalidArgument, "{}.seccompProfile.type: unsupported \"{}\"", where, type);
  }
  return out;
}

Result<std::optional<cri::SecurityProfile>> appArmorProfile(const Json& pod,
                                                            const Json& container) {
  const Json& profile = effective(pod, container, "appArmorProfile");
  std::string type = jsonString(profile, "type");
  std::string localhost = jsonString(profile, "localhostProfile");
  if (type.empty()) {
    // The beta annotation still counts when the field is unset.
    auto ann = jsonString(
        jsonField(metaOf(pod), "annotations"),
        "container.apparmor.security.beta.kubernetes.io/" + jsonString(container, "name"));
    if (ann == "runtime/default") type = "RuntimeDefault";
    if (ann == "unconfined") type = "Unconfined";
    if (ann.starts_with("localhost/")) {
      type = "Localhost";
      localhost = ann.substr(10);
    }
  }
  if (type.empty()) return std::nullopt;
  cri::SecurityProfile out;
  if (type == "RuntimeDefault")
    out.set_profile_type(cri::SecurityProfile::RuntimeDefault);
  else if (type == "Unconfined")
    out.set_profile_type(cri::SecurityProfile::Unconfined);
  else if (type == "Localhost") {
    out.set_profile_type(cri::SecurityProfile::Localhost);
    out.set_localhost_ref(localhost);
  } else {
    return fail(Code::kInvalidArgument, "appArmorProfile.type: unsupported \"{}\"", type);
  }
  return out;
}

void addPodGroups(const Json& podSc, google::protobuf::RepeatedField<std::int64_t>& groups) {
  if (const Json& fsGroup = jsonField(podSc, "fsGroup"); fsGroup.is_number_integer()) {
    groups.Add(fsGroup.get<std::int64_t>());
  }
  for (const Json& g : jsonArray(podSc, "supplementalGroups"))
    if (g.is_number_integer()) groups.Add(g.get<std::int64_t>());
}

Result<void> containerSecurity(const Json& pod, const Json& container,
                               cri::LinuxContainerSecurityContext& sc) {
  const Json& csc = jsonField(container, "securityContext");
  const Json& podSc = jsonField(specOf(pod), "securityContext");
  const std::string name = jsonString(container, "name");
  const bool privileged = jsonBool(csc, "privileged");
  sc.set_privileged(privileged);
  for (const Json& c : jsonArray(jsonField(csc, "capabilities"), "add"))
    sc.mutable_capabilities()->add_add_capabilities(c.get<std::string>());
  for (const Json& c : jsonArray(jsonField(csc, "capabilities"), "drop"))
    sc.mutable_capabilities()->add_drop_capabilities(c.get<std::string>());
  if (const Json& uid = effective(pod, container, "runAsUser"); uid.is_number_integer()) {
    sc.mutable_run_as_user()->set_value(uid.get<std::int64_t>());
  }
  if (const Json& gid = effective(pod, container, "runAsGroup"); gid.is_number_integer()) {
    sc.mutable_run_as_group()->set_value(gid.get<std::int64_t>());
  }
  sc.set_readonly_rootfs(jsonBool(csc, "readOnlyRootFilesystem"));
  addPodGroups(podSc, *sc.mutable_supplemental_groups());
  if (jsonString(podSc, "supplementalGroupsPolicy") == "Strict") {
    sc.set_supplemental_groups_policy(cri::Strict);
  }
  const Json& escalation = jsonField(csc, "allowPrivilegeEscalation");
  sc.set_no_new_privs(escalation.is_boolean() && !escalation.get<bool>());
  if (!privileged && jsonString(csc, "procMount", "Default") == "Default") {
    for (const char* p : kMaskedPaths)
      sc.add_masked_paths(p);
    for (const char* p : kReadonlyPaths)
      sc.add_readonly_paths(p);
  }
  *sc.mutable_seccomp() = BERTH_TRY(seccompProfile(effective(pod, container, "seccompProfile"),
                                                   "container " + name + " securityContext"));
  if (auto aa = BERTH_TRY(appArmorProfile(pod, container))) *sc.mutable_apparmor() = *aa;
  // runAsNonRoot with a uid of 0 the kubelet can see is refused before the runtime runs it.
  if (effective(pod, container, "runAsNonRoot") == Json(true)) {
    if (sc.has_run_as_user() && sc.run_as_user().value() == 0) {
      return fail(Code::kFailedPrecondition,
                  "container {}: container's runAsUser breaks non-root policy", name);
    }
  }
  return {};
}

Json resourceValue(const Json& container, const char* kind, const char* name) {
  return jsonField(jsonField(jsonField(container, "resources"), kind), name);
}

// resolv.conf's nameserver, search and options lines.
void parseResolvConf(const std::string& text, std::vector<std::string>& servers,
                     std::vector<std::string>& searches, std::vector<std::string>& options) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    words >> key;
    if (key.empty() || key[0] == '#' || key[0] == ';') continue;
    std::vector<std::string> values;
    while (words >> value)
      values.push_back(value);
    if (key == "nameserver" && !values.empty()) servers.push_back(values[0]);
    if (key == "search") searches = values;
    if (key == "options") options.insert(options.end(), values.begin(), values.end());
  }
}

void appendUnique(std::vector<std::string>& to, const std::string& v) {
  if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
}

}  // namespace

std::string podLogDirectory(const std::string& podLogsDir, const Json& pod) {
  const Json& meta = metaOf(pod);
  return fmt::format("{}/{}_{}_{}", podLogsDir, jsonString(meta, "namespace"),
                     jsonString(meta, "name"), jsonString(meta, "uid"));
}

std::string podHostname(const Json& pod, const std::string& nodeHostname) {
  if (jsonBool(specOf(pod), "hostNetwork")) return nodeHostname;
  std::string name = jsonString(specOf(pod), "hostname");
  if (name.empty()) name = jsonString(metaOf(pod), "name");
  if (name.size() > 63) name.resize(63);
  while (!name.empty() && (name.back() == '-' || name.back() == '.'))
    name.pop_back();
  return name;
}

Result<cri::DNSConfig> podDnsConfig(const Json& pod, const SandboxOptions& options,
                                    const std::string& hostResolvConf) {
  const Json& spec = specOf(pod);
  std::string policy = jsonString(spec, "dnsPolicy", "ClusterFirst");
  if (policy == "ClusterFirst" && jsonBool(spec, "hostNetwork")) policy = "Default";
  if (policy == "ClusterFirstWithHostNet") policy = "ClusterFirst";
  if (policy == "ClusterFirst" && options.clusterDns.empty()) policy = "Default";
  std::vector<std::string> servers, searches, opts;
  if (policy == "Default" || policy == "ClusterFirst") {
    parseResolvConf(hostResolvConf, servers, searches, opts);
  }
  if (policy == "ClusterFirst") {
    const std::string ns = jsonString(metaOf(pod), "namespace");
    const std::string& d = options.clusterDomain;
    std::vector<std::string> clusterSearches = {ns + ".svc." + d, "svc." + d, d};
    for (const auto& s : searches)
      appendUnique(clusterSearches, s);
    searches = std::move(clusterSearches);
    servers = options.clusterDns;
    opts = {"ndots:5"};
  } else if (policy == "None") {
    servers.clear();
    searches.clear();
    opts.clear();
  } else if (policy != "Default") {
    return fail(Code::kInvalidArgument, "spec.dnsPolicy: unsupported \"{}\"", policy);
  }
  const Json& dnsConfig = jsonField(spec, "dnsConfig");
  for (const Json& s : jsonArray(dnsConfig, "nameservers"))
    appendUnique(servers, s.get<std::string>());
  for (const Json& s : jsonArray(dnsConfig, "searches"))
    appendUnique(searches, s.get<std::string>());
  for (const Json& o : jsonArray(dnsConfig, "options")) {
    std::string name = jsonString(o, "name");
    std::string opt = o.contains("value") ? name + ":" + jsonString(o, "value") : name;
    // An option of the same name is replaced.
    std::erase_if(opts,
                  [&](const std::string& e) { return e == name || e.starts_with(name + ":"); });
    opts.push_back(opt);
  }
  cri::DNSConfig out;
  for (const auto& s : servers)
    out.add_servers(s);
  for (const auto& s : searches)
    out.add_searches(s);
  for (const auto& o : opts)
    out.add_options(o);
  return out;
}

Result<cri::PodSandboxConfig> makeSandboxConfig(const Json& pod, std::uint32_t attempt,
                                                const SandboxOptions& options) {
  const Json& meta = metaOf(pod);
  const Json& spec = specOf(pod);
  cri::PodSandboxConfig config;
  auto* m = config.mutable_metadata();
  m->set_name(jsonString(meta, "name"));
  m->set_namespace_(jsonString(meta, "namespace"));
  m->set_uid(jsonString(meta, "uid"));
  m->set_attempt(attempt);
  config.set_hostname(podHostname(pod, options.nodeHostname));
  config.set_log_directory(podLogDirectory(options.podLogsDir, pod));
  std::string resolv;
  if (!options.resolvConf.empty()) resolv = readFile(options.resolvConf).value_or("");
  *config.mutable_dns_config() = BERTH_TRY(podDnsConfig(pod, options, resolv));
  for (const Json& c : jsonArray(spec, "containers")) {
    for (const Json& p : jsonArray(c, "ports")) {
      const int hostPort = p.value("hostPort", 0);
      if (hostPort <= 0) continue;
      auto* pm = config.add_port_mappings();
      pm->set_protocol(protocolOf(jsonString(p, "protocol", "TCP")));
      pm->set_container_port(p.value("containerPort", 0));
      pm->set_host_port(hostPort);
      pm->set_host_ip(jsonString(p, "hostIP"));
    }
  }
  copyStringMap(jsonField(meta, "labels"), *config.mutable_labels());
  (*config.mutable_labels())[kPodNameLabel] = m->name();
  (*config.mutable_labels())[kPodNamespaceLabel] = m->namespace_();
  (*config.mutable_labels())[kPodUidLabel] = m->uid();
  (*config.mutable_labels())[kKubeletManagedLabel] = "true";
  copyStringMap(jsonField(meta, "annotations"), *config.mutable_annotations());

  auto* linux = config.mutable_linux();
  linux->set_cgroup_parent(options.cgroupParent);
  const Json& podSc = jsonField(spec, "securityContext");
  for (const Json& s : jsonArray(podSc, "sysctls")) {
    (*linux->mutable_sysctls())[jsonString(s, "name")] = jsonString(s, "value");
  }
  auto* sc = linux->mutable_security_context();
  auto* ns = sc->mutable_namespace_options();
  ns->set_network(jsonBool(spec, "hostNetwork") ? cri::NODE : cri::POD);
  ns->set_ipc(jsonBool(spec, "hostIPC") ? cri::NODE : cri::POD);
  ns->set_pid(jsonBool(spec, "hostPID")                 ? cri::NODE
              : jsonBool(spec, "shareProcessNamespace") ? cri::POD
                                                        : cri::CONTAINER);
  if (const Json& uid = jsonField(podSc, "runAsUser"); uid.is_number_integer()) {
    sc->mutable_run_as_user()->set_value(uid.get<std::int64_t>());
  }
  if (const Json& gid = jsonField(podSc, "runAsGroup"); gid.is_number_integer()) {
    sc->mutable_run_as_group()->set_value(gid.get<std::int64_t>());
  }
  addPodGroups(podSc, *sc->mutable_supplemental_groups());
  *sc->mutable_seccomp() =
      BERTH_TRY(seccompProfile(jsonField(podSc, "seccompProfile"), "spec.securityContext"));
  for (const char* list : {"initContainers", "containers"}) {
    for (const Json& c : jsonArray(spec, list)) {
      if (jsonBool(jsonField(c, "securityContext"), "privileged")) sc->set_privileged(true);
    }
  }
  return config;
}

int oomScoreAdjust(const Json& pod, const Json& container, std::int64_t memoryCapacity) {
  constexpr int kGuaranteed = -997, kBestEffort = 1000;
  const Json& priority = jsonField(specOf(pod), "priority");
  if (priority.is_number_integer() && priority.get<std::int64_t>() >= kCriticalPodPriority) {
    return kGuaranteed;
  }
  const std::string qos = kubeapi::podQosClass(specOf(pod));
  if (qos == "Guaranteed") return kGuaranteed;
  if (qos == "BestEffort") return kBestEffort;
  auto request = kubeapi::Quantity::fromJson(resourceValue(container, "requests", "memory"));
  std::int64_t bytes = request ? request->value() : 0;
  if (memoryCapacity <= 0) return 999;
  std::int64_t adj = 1000 - (1000 * bytes) / memoryCapacity;
  // Never as low as a Guaranteed pod's, never as high as a BestEffort one's.
  if (adj < 1000 + kGuaranteed) return 1000 + kGuaranteed;
  if (adj == kBestEffort) return static_cast<int>(adj - 1);
  return static_cast<int>(adj);
}

Result<cri::LinuxContainerResources> containerResources(const Json& pod, const Json& container,
                                                        std::int64_t nodeMemoryCapacity,
                                                        bool cpuCfsQuota,
                                                        std::int64_t cpuCfsQuotaPeriodUs) {
  const std::string name = jsonString(container, "name");
  auto quantity = [&](const char* kind,
                      const char* res) -> Result<std::optional<kubeapi::Quantity>> {
    const Json& v = resourceValue(container, kind, res);
    if (v.is_null()) return std::nullopt;
    auto q = kubeapi::Quantity::fromJson(v);
    if (!q) {
      return fail(Code::kInvalidArgument, "container {}: resources.{}.{}: {}", name, kind, res,
                  q.error().message());
    }
    return *q;
  };
  auto cpuRequest = BERTH_TRY(quantity("requests", "cpu"));
  auto cpuLimit = BERTH_TRY(quantity("limits", "cpu"));
  auto memoryLimit = BERTH_TRY(quantity("limits", "memory"));
  cri::LinuxContainerResources r;
  // A limit without a request asks for the limit (the API defaults it so; static pods may not).
  std::int64_t sharesMilli = cpuRequest ? cpuRequest->milliValue()
                             : cpuLimit ? cpuLimit->milliValue()
                                        : 0;
  r.set_cpu_shares(milliCpuToShares(sharesMilli));
  if (cpuLimit && cpuCfsQuota) {
    r.set_cpu_period(cpuCfsQuotaPeriodUs);
    r.set_cpu_quota(milliCpuToQuota(cpuLimit->milliValue(), cpuCfsQuotaPeriodUs));
  }
  if (memoryLimit) r.set_memory_limit_in_bytes(memoryLimit->value());
  r.set_oom_score_adj(oomScoreAdjust(pod, container, nodeMemoryCapacity));
  for (const auto& [key, value] : jsonField(jsonField(container, "resources"), "limits").items()) {
    if (!key.starts_with("hugepages-")) continue;
    auto q = kubeapi::Quantity::fromJson(value);
    if (!q) continue;
    auto* h = r.add_hugepage_limits();
    h->set_page_size(hugepagePageSize(key));
    h->set_limit(static_cast<std::uint64_t>(q->value()));
  }
  return r;
}

Result<cri::ContainerConfig> makeContainerConfig(const ContainerInputs& in) {
  const Json& c = in.container;
  const Json& meta = metaOf(in.pod);
  const std::string name = jsonString(c, "name");
  cri::ContainerConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_attempt(static_cast<std::uint32_t>(in.restartCount));
  config.mutable_image()->set_image(in.imageRef.empty() ? jsonString(c, "image") : in.imageRef);
  config.mutable_image()->set_user_specified_image(jsonString(c, "image"));
  auto lookup = [&](std::string_view var) -> std::optional<std::string> {
    for (const auto& [k, v] : in.env)
      if (k == var) return v;
    return std::nullopt;
  };
  for (const Json& a : jsonArray(c, "command"))
    config.add_command(expandVariables(a.get<std::string>(), lookup));
  for (const Json& a : jsonArray(c, "args"))
    config.add_args(expandVariables(a.get<std::string>(), lookup));
  config.set_working_dir(jsonString(c, "workingDir"));
  for (const auto& [k, v] : in.env) {
    auto* kv = config.add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }
  for (const auto& m : in.mounts)
    *config.add_mounts() = m;
  auto& labels = *config.mutable_labels();
  labels[kPodNameLabel] = jsonString(meta, "name");
  labels[kPodNamespaceLabel] = jsonString(meta, "namespace");
  labels[kPodUidLabel] = jsonString(meta, "uid");
  labels[kContainerNameLabel] = name;
  auto& ann = *config.mutable_annotations();
  ann[kContainerHashAnnotation] = fmt::format("{:x}", containerHash(c));
  ann[kRestartCountAnnotation] = std::to_string(in.restartCount);
  ann[kTerminationMessagePathAnnotation] =
      jsonString(c, "terminationMessagePath", "/dev/termination-log");
  ann[kTerminationMessagePolicyAnnotation] = jsonString(c, "terminationMessagePolicy", "File");
  const Json& grace = jsonField(specOf(in.pod), "terminationGracePeriodSeconds");
  ann[kTerminationGraceAnnotation] =
      std::to_string(grace.is_number_integer() ? grace.get<std::int64_t>() : 30);
  config.set_log_path(fmt::format("{}/{}.log", name, in.restartCount));
  config.set_stdin(jsonBool(c, "stdin"));
  config.set_stdin_once(jsonBool(c, "stdinOnce"));
  config.set_tty(jsonBool(c, "tty"));
  auto* linux = config.mutable_linux();
  *linux->mutable_resources() = BERTH_TRY(
      containerResources(in.pod, c, in.nodeMemoryCapacity, in.cpuCfsQuota, in.cpuCfsQuotaPeriodUs));
  BERTH_TRY(containerSecurity(in.pod, c, *linux->mutable_security_context()));
  return config;
}

}  // namespace berth::kubelet
