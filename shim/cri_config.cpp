#include "shim/cri_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <regex>

#include "common/file_util.h"
#include "common/yaml_reader.h"

namespace berth::cri {

namespace {

using yaml::MapReader;

const std::vector<std::string_view> kLogLevels = {"trace", "debug", "info", "warn", "error"};

Status readAbsPath(MapReader& m, std::string_view key, std::filesystem::path& out) {
  const bool hadDefault = !out.empty();
  std::string s = out.string();
  BERTH_TRY(m.readString(key, s));
  if (s.empty() && !hadDefault) return {};  // absent, and empty means "find it" (monitor_path)
  if (s.empty() || s[0] != '/') {
    return std::unexpected(m.keyError(key, fmt::format("must be an absolute path, not \"{}\"", s)));
  }
  out = s;
  return {};
}

// RuntimeClass handler names are DNS labels (k8s node.k8s.io RuntimeClass.handler).
bool isDnsLabel(std::string_view s) {
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s.begin(), s.end(), kLabel);
}

Status readHandler(MapReader& handlers, const std::string& name, RuntimeHandler& out) {
  if (!isDnsLabel(name)) {
    return std::unexpected(handlers.keyError(name, "a handler name must be a DNS label"));
  }
  auto m = BERTH_TRY(handlers.readMap(name));
  if (!m) return std::unexpected(handlers.keyError(name, "must be a mapping"));
  BERTH_TRY(m->readString("type", out.type));
  if (out.type != "runc-cli") return std::unexpected(m->keyError("type", "must be runc-cli"));
  BERTH_TRY(m->readString("path", out.path));
  if (out.path.empty()) return std::unexpected(m->keyError("path", "is required"));
  std::string root;  // optional: finalizeCriConfig() derives it from state
  BERTH_TRY(m->readString("root", root));
  if (!root.empty()) {
    if (root[0] != '/') {
      return std::unexpected(
          m->keyError("root", fmt::format("must be an absolute path, not \"{}\"", root)));
    }
    out.root = root;
  }
  return m->finish();
}

Status readCni(MapReader& top, CriConfig& c) {
  auto m = BERTH_TRY(top.readMap("cni"));
  if (!m) return {};
  if (m->has("bin_dirs")) {
    std::vector<std::string> dirs;
    BERTH_TRY(m->readStringList("bin_dirs", dirs));
    if (dirs.empty()) return std::unexpected(m->keyError("bin_dirs", "must not be empty"));
    c.cni.binDirs.clear();
    for (const auto& d : dirs) {
      if (d.empty() || d[0] != '/') {
        return std::unexpected(
            m->keyError("bin_dirs", fmt::format("\"{}\" is not an absolute path", d)));
      }
      c.cni.binDirs.emplace_back(d);
    }
  }
  BERTH_TRY(readAbsPath(*m, "conf_dir", c.cni.confDir));
  BERTH_TRY(readAbsPath(*m, "conf_template", c.cni.confTemplate));
  return m->finish();
}

Status readStreamServer(MapReader& top, CriConfig& c) {
  auto m = BERTH_TRY(top.readMap("stream_server"));
  if (!m) return {};
  BERTH_TRY(m->readString("address", c.streamServer.address));
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, c.streamServer.address.c_str(), buf) != 1 &&
      inet_pton(AF_INET6, c.streamServer.address.c_str(), buf) != 1) {
    return std::unexpected(m->keyError(
        "address", fmt::format("must be an IP address, not \"{}\"", c.streamServer.address)));
  }
  int64_t port = c.streamServer.port;
  BERTH_TRY(m->readInt("port", port, 0, 65535));
  c.streamServer.port = static_cast<uint16_t>(port);
  return m->finish();
}

}  // namespace

std::string_view cgroupDriverName(CgroupDriver driver) {
  return driver == CgroupDriver::kSystemd ? "systemd" : "cgroupfs";
}

Result<CriConfig> parseCriConfig(std::string_view text) {
  CriConfig c;
  auto doc = BERTH_TRY(yaml::parse(text));
  auto top = BERTH_TRY(MapReader::open(doc, ""));
  BERTH_TRY(readAbsPath(top, "root", c.root));
  BERTH_TRY(readAbsPath(top, "state", c.state));
  BERTH_TRY(readAbsPath(top, "listen", c.listen));
  BERTH_TRY(top.readString("log_level", c.logLevel));
  if (std::find(kLogLevels.begin(), kLogLevels.end(), c.logLevel) == kLogLevels.end()) {
    return std::unexpected(
        top.keyError("log_level", "must be one of trace, debug, info, warn, error"));
  }
  std::string driver(cgroupDriverName(c.cgroupDriver));
  BERTH_TRY(top.readString("cgroup_driver", driver));
  if (driver == "cgroupfs") {
    c.cgroupDriver = CgroupDriver::kCgroupfs;
  } else if (driver == "systemd") {
    c.cgroupDriver = CgroupDriver::kSystemd;
  } else {
    return std::unexpected(top.keyError("cgroup_driver", "must be cgroupfs or systemd"));
  }
  BERTH_TRY(top.readBool("disable_apparmor", c.disableAppArmor));
  if (auto handlers = BERTH_TRY(top.readMap("runtime_handlers"))) {
    if (handlers->keys().empty()) {
      return std::unexpected(top.keyError("runtime_handlers", "must name at least one handler"));
    }
    for (const auto& name : handlers->keys()) {
      RuntimeHandler h;
      BERTH_TRY(readHandler(*handlers, name, h));
      c.runtimeHandlers.emplace(name, std::move(h));
    }
    BERTH_TRY(handlers->finish());
  }
  BERTH_TRY(top.readString("default_runtime_handler", c.defaultRuntimeHandler));
  if (!c.runtimeHandlers.empty() && !c.runtimeHandlers.contains(c.defaultRuntimeHandler)) {
    return std::unexpected(
        top.keyError("default_runtime_handler",
                     fmt::format("\"{}\" is not in runtime_handlers", c.defaultRuntimeHandler)));
  }
  BERTH_TRY(readCni(top, c));
  BERTH_TRY(readAbsPath(top, "registry_config", c.registryConfig));
  BERTH_TRY(readAbsPath(top, "image_root", c.imageRoot));
  BERTH_TRY(readStreamServer(top, c));
  BERTH_TRY(readAbsPath(top, "monitor_path", c.monitorPath));
  BERTH_TRY(readAbsPath(top, "pod_init_path", c.podInitPath));
  BERTH_TRY(top.finish());
  return c;
}

Result<CriConfig> loadCriConfig(const std::filesystem::path& path, bool mustExist) {
  auto text = readFile(path);
  if (!text) {
    if (text.error().sysErrno() == ENOENT && !mustExist) return parseCriConfig("");
    return std::unexpected(std::move(text).error());
  }
  return withContext(parseCriConfig(*text), path.string());
}

Status finalizeCriConfig(CriConfig& c) {
  if (c.runtimeHandlers.empty()) {
    // No handlers configured: berth-runtime from PATH.
    if (c.defaultRuntimeHandler != "berth-runtime") {
      return fail(Code::kInvalidArgument,
                  "default_runtime_handler: \"{}\" is not in runtime_handlers",
                  c.defaultRuntimeHandler);
    }
    c.runtimeHandlers.emplace("berth-runtime", RuntimeHandler{.path = "berth-runtime"});
  }
  // Containers of berth-cri get a runtime root of their own, apart from the handler's default
  // (as containerd uses /run/containerd/runc/k8s.io), so `runc list` of a user never shows them.
  for (auto& [name, h] : c.runtimeHandlers) {
    if (h.root.empty()) h.root = c.state / "runtimes" / name;
  }
  if (c.monitorPath.empty() || c.podInitPath.empty()) {
    std::error_code ec;
    auto bindir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    if (ec) return fail(Code::kInternal, "resolve /proc/self/exe: {}", ec.message());
    if (c.monitorPath.empty()) c.monitorPath = bindir / "berth-monitor";
    if (c.podInitPath.empty()) {
      c.podInitPath = (bindir / ".." / "lib" / "berth" / "berth-pod-init").lexically_normal();
    }
  }
  return {};
}

nlohmann::ordered_json toJson(const CriConfig& c) {
  nlohmann::ordered_json handlers = nlohmann::ordered_json::object();
  for (const auto& [name, h] : c.runtimeHandlers) {
    handlers[name] = {{"type", h.type}, {"path", h.path}, {"root", h.root.string()}};
  }
  nlohmann::ordered_json binDirs = nlohmann::ordered_json::array();
  for (const auto& d : c.cni.binDirs)
    binDirs.push_back(d.string());
  return {
      {"root", c.root.string()},
      {"state", c.state.string()},
      {"listen", c.listen.string()},
      {"log_level", c.logLevel},
      {"cgroup_driver", cgroupDriverName(c.cgroupDriver)},
      {"disable_apparmor", c.disableAppArmor},
      {"runtime_handlers", handlers},
      {"default_runtime_handler", c.defaultRuntimeHandler},
      {"cni",
       {{"bin_dirs", binDirs},
        {"conf_dir", c.cni.confDir.string()},
        {"conf_template", c.cni.confTemplate.string()}}},
      {"registry_config", c.registryConfig.string()},
      {"image_root", c.imageRoot.string()},
      {"stream_server", {{"address", c.streamServer.address}, {"port", c.streamServer.port}}},
      {"monitor_path", c.monitorPath.string()},
      {"pod_init_path", c.podInitPath.string()},
  };
}

}  // namespace berth::cri
