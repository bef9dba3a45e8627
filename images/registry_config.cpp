#include "images/registry_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/ip.h"

namespace berth::images {
namespace {

std::unexpected<Error> invalid(std::string_view source, std::string_view path,
                               std::string_view what) {
  return fail(Code::kInvalidArgument, "{}: {}: {}", source, path, what);
}

Result<std::string> scalar(const YAML::Node& n, std::string_view source, const std::string& path) {
  if (!n.IsScalar()) return invalid(source, path, "must be a string");
  return n.Scalar();
}

Result<bool> boolean(const YAML::Node& n, std::string_view source, const std::string& path) {
  if (!n.IsScalar()) return invalid(source, path, "must be a boolean");
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return invalid(source, path, "must be a boolean");
}

}  // namespace

bool isLoopbackRegistry(std::string_view host) {
  std::string_view name = host;
  if (name.starts_with('[')) {
    auto end = name.find(']');
    if (end == std::string_view::npos) return false;
    name = name.substr(1, end - 1);
  } else if (auto colon = name.find(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name == "localhost") return true;
  auto ip = IpAddr::parse(name);
  if (!ip) return false;
  const uint8_t* b = ip->data();
  if (ip->isV4()) return b[0] == 127;
  // ::1, and 127.0.0.0/8 mapped into IPv6 (::ffff:127.x.y.z), as Go's IP.IsLoopback.
  bool zeroPrefix = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; });
  if (zeroPrefix && b[10] == 0xff && b[11] == 0xff) return b[12] == 127;
  return zeroPrefix && std::all_of(b + 10, b + 15, [](uint8_t x) { return x == 0; }) && b[15] == 1;
}

Result<std::pair<std::string, std::string>> decodeBasicAuth(std::string_view base64) {
  auto decoded = base64Decode(base64);
  auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos)
    return fail(Code::kInvalidArgument, "must be base64 of user:password");
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

namespace {

struct ParsedUrl {
  std::string scheme;
  std::string host;
  std::string rest;
};

Result<ParsedUrl> parseEndpointUrl(std::string_view url) {
  ParsedUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return fail(Code::kInvalidArgument, "\"{}\" needs a scheme (https:// or http://)", url);
  }
  out.scheme = url.substr(0, sep);
  if (out.scheme != "http" && out.scheme != "https") {
    return fail(Code::kInvalidArgument, "\"{}\": scheme must be http or https", url);
  }
  std::string_view after = url.substr(sep + 3);
  auto slash = after.find('/');
  out.host = after.substr(0, slash);
  if (slash != std::string_view::npos) out.rest = after.substr(slash);
  while (!out.rest.empty() && out.rest.back() == '/')
    out.rest.pop_back();
  if (out.host.empty()) return fail(Code::kInvalidArgument, "\"{}\": no host", url);
  return out;
}

Status parseMirrors(const YAML::Node& node, std::string_view source,
                    std::map<std::string, RegistryMirror>& out) {
  if (!node.IsMap()) return invalid(source, "mirrors", "must be a map");
  for (const auto& kv : node) {
    std::string name = kv.first.as<std::string>();
    std::string path = "mirrors." + name;
    if (!kv.second.IsMap()) return invalid(source, path, "must be a map");
    std::vector<std::string> endpoints;
    if (auto ep = kv.second["endpoint"]; ep) {
      if (!ep.IsSequence()) return invalid(source, path + ".endpoint", "must be a list");
      for (size_t i = 0; i < ep.size(); ++i) {
        std::string itemPath = fmt::format("{}.endpoint[{}]", path, i);
        auto url = BERTH_TRY(scalar(ep[i], source, itemPath));
        if (auto parsed = parseEndpointUrl(url); !parsed) {
          return invalid(source, itemPath, parsed.error().message());
        }
        while (!url.empty() && url.back() == '/')
          url.pop_back();
        endpoints.push_back(url);
      }
    }
    RegistryMirror mirror{.endpoints = std::move(endpoints)};
    if (auto rw = kv.second["rewrite"]; rw) {
      if (!rw.IsMap()) return invalid(source, path + ".rewrite", "must be a map");
      for (const auto& r : rw) {
        std::string pattern = r.first.as<std::string>();
        std::string itemPath = fmt::format("{}.rewrite.\"{}\"", path, pattern);
        auto replacement = BERTH_TRY(scalar(r.second, source, itemPath));
        try {
          std::regex re(pattern);
        } catch (const std::regex_error& e) {
          return invalid(source, itemPath, fmt::format("invalid regular expression: {}", e.what()));
        }
        mirror.rewrites.emplace_back(pattern, replacement);
      }
    }
    out[name] = std::move(mirror);
  }
  return {};
}

Status parseConfigs(const YAML::Node& node, std::string_view source,
                    std::map<std::string, RegistryHostConfig>& out) {
  if (!node.IsMap()) return invalid(source, "configs", "must be a map");
  for (const auto& kv : node) {
    std::string name = kv.first.as<std::string>();
    std::string path = "configs." + name;
    if (!kv.second.IsMap()) return invalid(source, path, "must be a map");
    RegistryHostConfig cfg;
    if (auto auth = kv.second["auth"]; auth) {
      if (!auth.IsMap()) return invalid(source, path + ".auth", "must be a map");
      RegistryAuth a;
      if (auth["username"])
        a.username = BERTH_TRY(scalar(auth["username"], source, path + ".auth.username"));
      if (auth["password"])
        a.password = BERTH_TRY(scalar(auth["password"], source, path + ".auth.password"));
      if (auth["identitytoken"]) {
        a.identityToken =
            BERTH_TRY(scalar(auth["identitytoken"], source, path + ".auth.identitytoken"));
      }
      if (auth["auth"]) {
        auto encoded = BERTH_TRY(scalar(auth["auth"], source, path + ".auth.auth"));
        auto decoded = decodeBasicAuth(encoded);
        if (!decoded)
          return invalid(source, path + ".auth.auth", "must be base64 of user:password");
        std::tie(a.username, a.password) = std::move(*decoded);
      }
      cfg.auth = std::move(a);
    }
    if (auto tls = kv.second["tls"]; tls) {
      if (!tls.IsMap()) return invalid(source, path + ".tls", "must be a map");
      cfg.tlsConfigured = true;
      if (tls["ca_file"])
        cfg.tls.caFile = BERTH_TRY(scalar(tls["ca_file"], source, path + ".tls.ca_file"));
      if (tls["cert_file"])
        cfg.tls.certFile = BERTH_TRY(scalar(tls["cert_file"], source, path + ".tls.cert_file"));
      if (tls["key_file"])
        cfg.tls.keyFile = BERTH_TRY(scalar(tls["key_file"], source, path + ".tls.key_file"));
      if (tls["insecure_skip_verify"]) {
        cfg.tls.insecureSkipVerify = BERTH_TRY(
            boolean(tls["insecure_skip_verify"], source, path + ".tls.insecure_skip_verify"));
      }
      if (cfg.tls.certFile.empty() != cfg.tls.keyFile.empty()) {
        return invalid(source, path + ".tls", "cert_file and key_file go together");
      }
    }
    out[name] = std::move(cfg);
  }
  return {};
}

}  // namespace

Result<RegistryConfig> RegistryConfig::parse(std::string_view yaml, std::string_view source) {
  RegistryConfig out;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return out;
    if (!root.IsMap()) return invalid(source, "document", "must be a map");
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key != "mirrors" && key != "configs") {
        return invalid(source, key, "unknown key (want mirrors or configs)");
      }
    }
    if (root["mirrors"]) BERTH_TRY(parseMirrors(root["mirrors"], source, out.mirrors_));
    if (root["configs"]) BERTH_TRY(parseConfigs(root["configs"], source, out.configs_));
  } catch (const YAML::Exception& e) {
    return fail(Code::kInvalidArgument, "{}: {}", source, e.what());
  }
  return out;
}

Result<RegistryConfig> RegistryConfig::load(const std::filesystem::path& path) {
  auto text = readFile(path);
  if (!text) {
    if (text.error().sysErrno() == ENOENT) return RegistryConfig();
    return std::unexpected(text.error());
  }
  return parse(*text, path.string());
}

std::string RegistryEndpoint::repository(const std::string& path) const {
  try {
    for (const auto& [pattern, replacement] : rewrites) {
      std::regex re(pattern);  // validated when the file was parsed
      if (std::regex_search(path, re)) return std::regex_replace(path, re, replacement);
    }
  } catch (const std::regex_error&) {
    // Only a pattern that was never validated gets here: no rewrite.
  }
  return path;
}

namespace {

// The port of "host:port", "[v6]:port"; empty without one.
std::string_view portOf(std::string_view host) {
  auto colon = host.rfind(':');
  if (colon == std::string_view::npos) return {};
  if (host.starts_with('[') && host.rfind(']') > colon) return {};
  return host.substr(colon + 1);
}

// A loopback registry without TLS settings, as containerd 2 (remotes/docker/config) treats one:
// port 80 is plain HTTP; no port or 443 HTTPS; any other port HTTPS first and plain HTTP when the
// server answers in it. Certificates are not verified: nothing but this host can be on the other
// end, and docker too treats 127.0.0.0/8 as an insecure registry.
void makeLoopbackDefault(RegistryEndpoint& ep, std::string_view registry) {
  std::string_view port = portOf(registry);
  if (port == "80") {
    ep.url = fmt::format("http://{}", registry);
    ep.plainHttp = true;
    return;
  }
  ep.tls.insecureSkipVerify = true;
  ep.httpFallback = !port.empty() && port != "443";
}

}  // namespace

std::vector<RegistryEndpoint> RegistryConfig::endpoints(std::string_view registry) const {
  std::vector<std::string> urls;
  std::vector<std::pair<std::string, std::string>> rewrites;
  auto it = mirrors_.find(std::string(registry));
  if (it == mirrors_.end()) it = mirrors_.find("*");
  if (it != mirrors_.end()) {
    urls = it->second.endpoints;
    rewrites = it->second.rewrites;
  }
  std::string upstream = registry == "docker.io" ? "https://registry-1.docker.io"
                                                 : fmt::format("https://{}", registry);
  std::vector<RegistryEndpoint> out;
  bool haveDefault = false;
  // Returns whether the endpoint's host has TLS settings of its own.
  auto add = [&](const std::string& url, bool isDefault) {
    auto parsed = parseEndpointUrl(url);
    if (!parsed) return false;
    RegistryEndpoint ep;
    ep.url = url;
    ep.host = parsed->host;
    ep.plainHttp = parsed->scheme == "http";
    ep.isDefault = isDefault || url == upstream;
    // k3s: rewrites apply to the mirrors, never to the registry's own endpoint.
    if (!ep.isDefault) ep.rewrites = rewrites;
    haveDefault = haveDefault || ep.isDefault;
    // Credentials and TLS by endpoint host; a mirror of this registry without its own entry
    // uses the registry's (k3s does the same).
    bool tlsConfigured = false;
    auto cfg = configs_.find(ep.host);
    if (cfg == configs_.end()) cfg = configs_.find(std::string(registry));
    if (cfg != configs_.end()) {
      ep.tls = cfg->second.tls;
      ep.auth = cfg->second.auth;
      tlsConfigured = cfg->second.tlsConfigured;
    }
    out.push_back(std::move(ep));
    return tlsConfigured;
  };
  for (const auto& u : urls)
    add(u, false);
  if (!haveDefault) {
    bool tlsConfigured = add(upstream, true);
    if (!tlsConfigured && isLoopbackRegistry(registry)) makeLoopbackDefault(out.back(), registry);
  }
  return out;
}

}  // namespace berth::images
