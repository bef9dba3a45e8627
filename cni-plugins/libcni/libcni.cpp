#include "cni-plugins/libcni/libcni.h"

#include <algorithm>

#include <fmt/format.h>

#include "cni-plugins/cni/config_json.h"
#include "common/file_util.h"

namespace berth::cni {

namespace fs = std::filesystem;

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string cniArgs(const RuntimeConf& rt) {
  std::string out;
  for (const auto& [k, v] : rt.args) {
    if (!out.empty()) out += ';';
    out += k + "=" + v;
  }
  return out;
}

// A string member of a plugin's configuration or a cache file, or "" (libcni decodes both into
// Go structs: keys in any case).
std::string stringMember(const Json& j, std::string_view key) {
  const Json* v = member(j, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::string pluginType(const Json& plugin) {
  return stringMember(plugin, "type");
}

CniStatus needVersion(const NetworkConfigList& list, std::string_view min, std::string_view what) {
  if (compareVersions(list.cniVersion, min) < 0) {
    return cniFail(kIncompatibleVersion, "network {}: {} needs cniVersion {} (have {})", list.name,
                   what, min, list.cniVersion);
  }
  return {};
}

}  // namespace

CniResult<NetworkConfigList> parseConfList(std::string_view text, const std::string& source,
                                           bool singleConf) {
  auto doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) return cniFail(kDecodeFailure, "{}: invalid JSON", source);
  if (!doc.is_object()) return cniFail(kInvalidNetworkConfig, "{}: must be an object", source);
  // libcni reads a list's own keys from a map (exact spelling) and a single plugin's, like every
  // plugin configuration, into a Go struct (any case).
  auto key = [&](const Json& o, const char* name) {
    return ocispec::findMember(o, name,
                               singleConf ? ocispec::KeyMatch::kGoFold : ocispec::KeyMatch::kExact);
  };
  auto str = [&](const Json& o, const char* name, std::string& out) -> CniStatus {
    const Json* v = key(o, name);
    if (v == nullptr) return {};
    if (!v->is_string())
      return cniFail(kInvalidNetworkConfig, "{}: {}: must be a string", source, name);
    out = v->get<std::string>();
    return {};
  };
  auto flag = [&](const Json& o, const char* name, bool& out) -> CniStatus {
    const Json* v = key(o, name);
    if (v == nullptr) return {};
    if (!v->is_boolean()) {
      return cniFail(kInvalidNetworkConfig, "{}: {}: must be a boolean", source, name);
    }
    out = v->get<bool>();
    return {};
  };
  NetworkConfigList l;
  l.source = source;
  CNI_TRY(str(doc, "cniVersion", l.cniVersion));
  // CNI 1.1: "cniVersions" lists what the config is valid for; the highest we speak wins.
  if (const Json* it = key(doc, "cniVersions")) {
    if (!it->is_array()) {
      return cniFail(kInvalidNetworkConfig, "{}: cniVersions: must be an array", source);
    }
    std::string best;
    for (const auto& v : *it) {
      if (!v.is_string()) {
        return cniFail(kInvalidNetworkConfig, "{}: cniVersions: must be an array of strings",
                       source);
      }
      auto s = v.get<std::string>();
      if (isSupportedVersion(s) && (best.empty() || compareVersions(s, best) > 0)) best = s;
    }
    if (best.empty()) {
      return cniFail(kIncompatibleVersion, "{}: cniVersions: none of them is supported", source);
    }
    l.cniVersion = best;
  }
  CNI_TRY(str(doc, "name", l.name));
  if (l.name.empty()) return cniFail(kInvalidNetworkConfig, "{}: name: required", source);
  if (l.cniVersion.empty()) l.cniVersion = "0.1.0";
  if (!isSupportedVersion(l.cniVersion)) {
    return cniFail(kIncompatibleVersion, "{}: cniVersion: \"{}\" is not supported", source,
                   l.cniVersion);
  }
  if (singleConf) {
    l.plugins.push_back(doc);
    Json list = {{"cniVersion", l.cniVersion}, {"name", l.name}, {"plugins", {doc}}};
    l.bytes = list.dump();
  } else {
    CNI_TRY(flag(doc, "disableCheck", l.disableCheck));
    CNI_TRY(flag(doc, "disableGC", l.disableGC));
    const Json* it = key(doc, "plugins");
    if (it == nullptr || !it->is_array() || it->empty()) {
      return cniFail(kInvalidNetworkConfig, "{}: plugins: must be a non-empty array", source);
    }
    for (const auto& p : *it)
      l.plugins.push_back(p);
    l.bytes = std::string(text);
  }
  for (size_t i = 0; i < l.plugins.size(); ++i) {
    std::string field = singleConf ? "type" : fmt::format("plugins[{}].type", i);
    if (pluginType(l.plugins[i]).empty()) {
      return cniFail(kInvalidNetworkConfig, "{}: {}: required", source, field);
    }
  }
  return l;
}

CniResult<NetworkConfigList> loadDefaultNetwork(const fs::path& dir,
                                                std::vector<std::string>* skipped) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto ext = it->path().extension();
    if (it->is_regular_file() && (ext == ".conf" || ext == ".conflist" || ext == ".json")) {
      files.push_back(it->path());
    }
  }
  if (ec) return cniFail(kIoFailure, "{}: {}", dir.string(), ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = readFile(f);
    if (!text) {
      if (skipped) skipped->push_back(text.error().message());
      continue;
    }
    auto l = parseConfList(*text, f.string(), f.extension() != ".conflist");
    if (l) return l;
    if (skipped) skipped->push_back(l.error().msg);
  }
  return cniFail(kInvalidNetworkConfig, "no valid network configuration in {}", dir.string());
}

CniResult<std::string> buildPluginConf(const NetworkConfigList& list, const Json& plugin,
                                       const RuntimeConf& rt, const std::optional<Json>& prev) {
  Json c = plugin;
  c["name"] = list.name;
  c["cniVersion"] = list.cniVersion;
  if (const Json* caps = member(plugin, "capabilities"); caps && caps->is_object()) {
    Json runtimeConfig = Json::object();
    for (const auto& [key, on] : caps->items()) {
      if (on.is_boolean() && on.get<bool>() && rt.capabilityArgs.contains(key)) {
        runtimeConfig[key] = rt.capabilityArgs[key];
      }
    }
    if (!runtimeConfig.empty()) c["runtimeConfig"] = runtimeConfig;
  }
  if (prev) c["prevResult"] = *prev;
  return c.dump();
}

CniRuntime::CniRuntime(Options o) : o_(std::move(o)) {
  if (!o_.exec) o_.exec = execPlugin;
}

fs::path CniRuntime::cachePath(const std::string& network, const std::string& containerID,
                               const std::string& ifName) const {
  return o_.cacheDir / "results" / fmt::format("{}-{}-{}", network, containerID, ifName);
}

std::optional<Json> CniRuntime::cachedResult(const std::string& network,
                                             const RuntimeConf& rt) const {
  auto text = readFile(cachePath(network, rt.containerID, rt.ifName));
  if (!text) return std::nullopt;
  auto j = Json::parse(*text, nullptr, false);
  const Json* result = member(j, "result");
  if (result == nullptr) return std::nullopt;
  return *result;
}

CniStatus CniRuntime::writeCache(const NetworkConfigList& list, const RuntimeConf& rt,
                                 const Json& result) {
  Json c = {{"kind", "cniCacheV1"},         {"containerId", rt.containerID},
            {"config", base64(list.bytes)}, {"ifName", rt.ifName},
            {"networkName", list.name},     {"netns", rt.netns},
            {"cniArgs", Json::array()},     {"result", result}};
  for (const auto& [k, v] : rt.args)
    c["cniArgs"].push_back({k, v});
  if (!rt.capabilityArgs.empty()) c["capabilityArgs"] = rt.capabilityArgs;
  auto path = cachePath(list.name, rt.containerID, rt.ifName);
  CNI_TRY_ERR(makeDirs(path.parent_path(), 0700), kIoFailure);
  return asCni(writeFileAtomic(path, c.dump(), 0600), kIoFailure);
}

CniResult<std::string> CniRuntime::invoke(const std::string& command, const Json& plugin,
                                          const RuntimeConf& rt, const std::string& conf) {
  std::string path;
  for (const auto& d : o_.binDirs)
    path += (path.empty() ? "" : ":") + d;
  auto type = pluginType(plugin);
  auto bin = CNI_TRY(findPlugin(type, path));
  ExecRequest req;
  req.binary = bin;
  req.env = {{"CNI_COMMAND", command}, {"CNI_PATH", path}};
  if (!rt.containerID.empty()) req.env["CNI_CONTAINERID"] = rt.containerID;
  if (!rt.netns.empty()) req.env["CNI_NETNS"] = rt.netns;
  if (!rt.ifName.empty()) req.env["CNI_IFNAME"] = rt.ifName;
  if (auto a = cniArgs(rt); !a.empty()) req.env["CNI_ARGS"] = a;
  req.stdinData = conf;
  req.timeout = o_.timeout;
  auto out = o_.exec(req);
  if (!out) {
    auto e = out.error();
    e.msg = fmt::format("plugin type=\"{}\" name=\"{}\" failed ({}): {}", type,
                        stringMember(plugin, "name"), command, e.msg);
    return std::unexpected(e);
  }
  return out;
}

CniResult<PluginResult> CniRuntime::add(const NetworkConfigList& list, const RuntimeConf& rt) {
  std::optional<Json> prev;
  for (const auto& p : list.plugins) {
    auto conf = CNI_TRY(buildPluginConf(list, p, rt, prev));
    auto out = CNI_TRY(invoke("ADD", p, rt, conf));
    auto j = Json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return cniFail(kDecodeFailure, "plugin {}: ADD result is not a JSON object", pluginType(p));
    }
    prev = j;
  }
  if (!prev) return cniFail(kInternal, "network {} has no plugins", list.name);
  CNI_TRY(writeCache(list, rt, *prev));
  return parseResult(*prev);
}

CniStatus CniRuntime::del(const NetworkConfigList& list, const RuntimeConf& given) {
  // Capability args the caller no longer has (a restarted runtime) come from the cache: portmap
  // needs the mappings to find what it added.
  RuntimeConf rt = given;
  if (rt.capabilityArgs.empty()) {
    auto text = readFile(cachePath(list.name, rt.containerID, rt.ifName));
    auto j = text ? Json::parse(*text, nullptr, false) : Json();
    if (const Json* caps = member(j, "capabilityArgs")) rt.capabilityArgs = *caps;
  }
  // prevResult for DEL arrived with 0.4.0.
  std::optional<Json> cached;
  if (compareVersions(list.cniVersion, "0.4.0") >= 0) cached = cachedResult(list.name, rt);
  // Every plugin gets its DEL even when one before it failed (libcni stops at the first): what
  // the others hold is released, and the first failure is reported. The cache stays then, so a
  // retry still has the result and the capability args.
  std::optional<CniError> first;
  for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
    auto conf = buildPluginConf(list, *it, rt, cached);
    auto out = conf ? invoke("DEL", *it, rt, *conf) : std::unexpected(conf.error());
    if (!out && !first) first = std::move(out).error();
  }
  if (first) return std::unexpected(std::move(*first));
  (void)removeAll(cachePath(list.name, rt.containerID, rt.ifName));
  return {};
}

CniStatus CniRuntime::check(const NetworkConfigList& list, const RuntimeConf& rt) {
  CNI_TRY(needVersion(list, "0.4.0", "CHECK"));
  if (list.disableCheck) return {};
  auto cached = cachedResult(list.name, rt);
  if (!cached) {
    return cniFail(kInternal, "network {}: no cached result for {}/{}", list.name, rt.containerID,
                   rt.ifName);
  }
  for (const auto& p : list.plugins) {
    auto conf = CNI_TRY(buildPluginConf(list, p, rt, cached));
    CNI_TRY(invoke("CHECK", p, rt, conf));
  }
  return {};
}

CniStatus CniRuntime::status(const NetworkConfigList& list) {
  if (compareVersions(list.cniVersion, "1.1.0") < 0) return {};  // nothing to ask before 1.1
  for (const auto& p : list.plugins) {
    auto conf = CNI_TRY(
        buildPluginConf(list, p, RuntimeConf{"", "", "", {}, Json::object()}, std::nullopt));
    CNI_TRY(invoke("STATUS", p, RuntimeConf{"", "", "", {}, Json::object()}, conf));
  }
  return {};
}

CniStatus CniRuntime::gc(const NetworkConfigList& list, const std::vector<Attachment>& valid) {
  // Cached attachments of this network that the runtime no longer knows: DEL them first.
  std::error_code ec;
  for (fs::directory_iterator it(o_.cacheDir / "results", ec), end; !ec && it != end;
       it.increment(ec)) {
    auto text = readFile(it->path());
    if (!text) continue;
    auto j = Json::parse(*text, nullptr, false);
    if (stringMember(j, "networkName") != list.name) continue;
    Attachment a{stringMember(j, "containerId"), stringMember(j, "ifName")};
    if (std::find(valid.begin(), valid.end(), a) != valid.end()) continue;
    RuntimeConf rt{a.containerID, stringMember(j, "netns"), a.ifname, {}, Json::object()};
    if (const Json* caps = member(j, "capabilityArgs")) rt.capabilityArgs = *caps;
    if (const Json* args = member(j, "cniArgs"); args && args->is_array()) {
      for (const auto& kv : *args) {
        if (kv.is_array() && kv.size() == 2 && kv[0].is_string() && kv[1].is_string()) {
          rt.args.emplace_back(kv[0], kv[1]);
        }
      }
    }
    CNI_TRY(del(list, rt));
  }
  if (list.disableGC || compareVersions(list.cniVersion, "1.1.0") < 0) return {};
  Json attachments = Json::array();
  for (const auto& a : valid) {
    attachments.push_back({{"containerID", a.containerID}, {"ifname", a.ifname}});
  }
  RuntimeConf none{"", "", "", {}, Json::object()};
  for (const auto& p : list.plugins) {
    auto conf = Json::parse(CNI_TRY(buildPluginConf(list, p, none, std::nullopt)));
    conf["cni.dev/valid-attachments"] = attachments;
    CNI_TRY(invoke("GC", p, none, conf.dump()));
  }
  return {};
}

}  // namespace berth::cni
