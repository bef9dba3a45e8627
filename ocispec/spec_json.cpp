// config.md top level (root, mounts, hooks, annotations) and runtime.md "State"; the process and
// linux sections live in process_json.cpp, linux_json.cpp and resources_json.cpp.

#include "ocispec/spec_json.h"

#include "common/file_util.h"
#include "ocispec/spec_json_internal.h"

namespace berth::ocispec {
namespace {

// runtime.md "State": the lifecycle states a runtime reports.
constexpr std::array<std::string_view, 4> kContainerStatuses = {"creating", "created", "running",
                                                                "stopped"};

Status readRoot(const JsonReader& r, Root& out) {
  BERTH_TRY(r.required("path", out.path));
  return r.optional("readonly", out.readonly);
}

Status readMount(const JsonReader& r, Mount& out) {
  BERTH_TRY(r.required("destination", out.destination));
  // A relative destination is accepted and taken relative to the rootfs, as runc does for
  // compatibility with older configs.
  if (out.destination.empty()) return r.invalid("destination", "must not be empty");
  BERTH_TRY(r.optional("type", out.type));
  BERTH_TRY(r.optional("source", out.source));
  BERTH_TRY(r.optional("options", out.options));
  BERTH_TRY(r.objects("uidMappings", out.uidMappings, readIdMapping));
  return r.objects("gidMappings", out.gidMappings, readIdMapping);
}

Status readHook(const JsonReader& r, Hook& out) {
  BERTH_TRY(r.required("path", out.path));
  // config.md: execv's path, which is not searched in $PATH, so it must be absolute.
  if (!isAbsolutePath(out.path)) return r.invalid("path", "must be an absolute path");
  BERTH_TRY(r.optional("args", out.args));
  BERTH_TRY(r.optional("env", out.env));
  BERTH_TRY(r.optional("timeout", out.timeout));
  if (out.timeout && *out.timeout <= 0) return r.invalid("timeout", "must be greater than 0");
  return {};
}

Status readHooks(const JsonReader& r, Hooks& out) {
  BERTH_TRY(r.objects("prestart", out.prestart, readHook));
  BERTH_TRY(r.objects("createRuntime", out.createRuntime, readHook));
  BERTH_TRY(r.objects("createContainer", out.createContainer, readHook));
  BERTH_TRY(r.objects("startContainer", out.startContainer, readHook));
  BERTH_TRY(r.objects("poststart", out.poststart, readHook));
  return r.objects("poststop", out.poststop, readHook);
}

// config.md "Annotations": keys MUST NOT be an empty string; values MUST be strings.
Status readAnnotations(const JsonReader& r, std::map<std::string, std::string>& out) {
  BERTH_TRY(r.optional("annotations", out));
  if (out.contains("")) return r.invalid("annotations", "keys must not be empty");
  return {};
}

Status readSpec(const JsonReader& r, Spec& out) {
  BERTH_TRY(r.required("ociVersion", out.ociVersion));
  BERTH_TRY(r.object("process", out.process, readProcess));
  BERTH_TRY(r.object("root", out.root, readRoot));
  BERTH_TRY(r.optional("hostname", out.hostname));
  BERTH_TRY(r.optional("domainname", out.domainname));
  BERTH_TRY(r.objects("mounts", out.mounts, readMount));
  BERTH_TRY(r.object("hooks", out.hooks, readHooks));
  BERTH_TRY(readAnnotations(r, out.annotations));
  return r.object("linux", out.linux, readLinux);
}

Status readState(const JsonReader& r, State& out) {
  BERTH_TRY(r.required("ociVersion", out.ociVersion));
  BERTH_TRY(r.required("id", out.id));
  BERTH_TRY(r.required("status", out.status));
  if (!isOneOf(kContainerStatuses, out.status)) {
    return r.invalid("status", "unknown status \"{}\"", out.status);
  }
  BERTH_TRY(r.optional("pid", out.pid));
  // runtime.md: pid is REQUIRED when the status is created or running on Linux.
  if ((out.status == "created" || out.status == "running") && out.pid <= 0) {
    return r.invalid("pid", "must be a positive pid when status is \"{}\"", out.status);
  }
  if (out.pid < 0) return r.invalid("pid", "must not be negative");
  BERTH_TRY(r.required("bundle", out.bundle));
  if (!isAbsolutePath(out.bundle)) return r.invalid("bundle", "must be an absolute path");
  return r.optional("annotations", out.annotations);
}

// Parses `text` as one JSON object and reads it with `read`; the shared front of every parser.
template <class T, class Read>
Result<T> parseObject(std::string_view text, Read&& read) {
  Json doc = BERTH_TRY(parseDocument(text));
  auto reader = BERTH_TRY(JsonReader::open(doc, ""));
  T out{};
  BERTH_TRY(read(reader, out));
  return out;
}

OrderedJson writeRoot(const Root& root) {
  OrderedJson j = {{"path", root.path}};
  putIfTrue(j, "readonly", root.readonly);
  return j;
}

OrderedJson writeMount(const Mount& m) {
  OrderedJson j = {{"destination", m.destination}};
  putIfSet(j, "type", m.type);
  putIfSet(j, "source", m.source);
  putIfNotEmpty(j, "options", m.options);
  putObjects(j, "uidMappings", m.uidMappings, writeIdMapping);
  putObjects(j, "gidMappings", m.gidMappings, writeIdMapping);
  return j;
}

OrderedJson writeHook(const Hook& h) {
  OrderedJson j = {{"path", h.path}};
  putIfNotEmpty(j, "args", h.args);
  putIfNotEmpty(j, "env", h.env);
  putIfSet(j, "timeout", h.timeout);
  return j;
}

OrderedJson writeHooks(const Hooks& hooks) {
  OrderedJson j = OrderedJson::object();
  putObjects(j, "prestart", hooks.prestart, writeHook);
  putObjects(j, "createRuntime", hooks.createRuntime, writeHook);
  putObjects(j, "createContainer", hooks.createContainer, writeHook);
  putObjects(j, "startContainer", hooks.startContainer, writeHook);
  putObjects(j, "poststart", hooks.poststart, writeHook);
  putObjects(j, "poststop", hooks.poststop, writeHook);
  return j;
}

OrderedJson writeProcess(const Process& p) {
  return toJson(p);
}

}  // namespace

Result<Spec> parseSpec(std::string_view json) {
  return parseObject<Spec>(json, readSpec);
}

Result<Spec> loadSpec(const std::filesystem::path& configJson) {
  std::string text = BERTH_TRY(readFile(configJson));
  return withContext(parseSpec(text), configJson.string());
}

Result<Process> parseProcess(std::string_view json) {
  return parseObject<Process>(json, readProcess);
}

Result<State> parseState(std::string_view json) {
  return parseObject<State>(json, readState);
}

OrderedJson toJson(const Spec& spec) {
  OrderedJson j = {{"ociVersion", spec.ociVersion}};
  putObject(j, "process", spec.process, writeProcess);
  putObject(j, "root", spec.root, writeRoot);
  putIfSet(j, "hostname", spec.hostname);
  putIfSet(j, "domainname", spec.domainname);
  putObjects(j, "mounts", spec.mounts, writeMount);
  putObject(j, "hooks", spec.hooks, writeHooks);
  putIfNotEmpty(j, "annotations", spec.annotations);
  putObject(j, "linux", spec.linux, writeLinux);
  return j;
}

OrderedJson toJson(const State& state) {
  OrderedJson j = {{"ociVersion", state.ociVersion}, {"id", state.id}, {"status", state.status}};
  if (state.pid != 0) j["pid"] = state.pid;  // Go `omitempty`
  j["bundle"] = state.bundle;
  putIfNotEmpty(j, "annotations", state.annotations);
  return j;
}

}  // namespace berth::ocispec
