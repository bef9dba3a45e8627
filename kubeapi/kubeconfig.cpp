#include "kubeapi/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/file_util.h"

namespace berth::kubeapi {
namespace {

namespace fs = std::filesystem;

// Reads one entry of a list of {name, <kind>: {...}} maps; exceptions stay inside.
class EntryReader {
 public:
  EntryReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  Result<std::string> string(const char* key) const {
    try {
      auto v = node_[key];
      if (!v || v.IsNull()) return std::string();
      if (!v.IsScalar()) return fail(Code::kInvalidArgument, "{}.{}: must be a string", path_, key);
      return v.as<std::string>();
    } catch (const YAML::Exception& e) {
      return fail(Code::kInvalidArgument, "{}.{}: {}", path_, key, e.what());
    }
  }

  Result<bool> boolean(const char* key) const {
    try {
      auto v = node_[key];
      if (!v || v.IsNull()) return false;
      return v.as<bool>();
    } catch (const YAML::Exception&) {
      return fail(Code::kInvalidArgument, "{}.{}: must be true or false", path_, key);
    }
  }

  Result<std::string> data(const char* key) const {
    auto text = BERTH_TRY(string(key));
    if (text.empty()) return text;
    auto decoded = base64Decode(text);
    if (!decoded) return std::unexpected(std::move(decoded).error().context(path_ + "." + key));
    return *decoded;
  }

  // A file path, resolved against the kubeconfig's directory.
  Result<std::string> file(const char* key, const fs::path& baseDir) const {
    auto p = BERTH_TRY(string(key));
    if (p.empty() || fs::path(p).is_absolute() || baseDir.empty()) return p;
    return (baseDir / p).lexically_normal().string();
  }

  bool has(const char* key) const {
    try {
      return node_[key] && !node_[key].IsNull();
    } catch (const YAML::Exception&) {
      return false;
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
};

// Calls fn(name, body) for each {name, <field>: body} entry of the list at `key`.
template <class Fn>
Status forEachNamed(const YAML::Node& root, const char* key, const char* field, Fn&& fn) {
  try {
    auto list = root[key];
    if (!list || list.IsNull()) return {};
    if (!list.IsSequence()) return fail(Code::kInvalidArgument, "{}: must be a list", key);
    for (size_t i = 0; i < list.size(); ++i) {
      auto entry = list[i];
      if (!entry.IsMap() || !entry["name"] || !entry["name"].IsScalar())
        return fail(Code::kInvalidArgument, "{}[{}]: must have a name", key, i);
      std::string name = entry["name"].as<std::string>();
      YAML::Node body = entry[field];
      if (body && !body.IsNull() && !body.IsMap())
        return fail(Code::kInvalidArgument, "{}[{}].{}: must be a mapping", key, name, field);
      BERTH_TRY(fn(name, EntryReader(body ? body : YAML::Node(YAML::NodeType::Map),
                                     fmt::format("{}[{}].{}", key, name, field))));
    }
    return {};
  } catch (const YAML::Exception& e) {
    return fail(Code::kInvalidArgument, "{}: {}", key, e.what());
  }
}

}  // namespace

Result<Kubeconfig> Kubeconfig::parse(std::string_view yaml, const fs::path& baseDir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return fail(Code::kInvalidArgument, "kubeconfig: {}", e.what());
  }
  Kubeconfig kc;
  if (!root || root.IsNull()) return kc;
  if (!root.IsMap()) return fail(Code::kInvalidArgument, "kubeconfig: not a mapping");
  BERTH_TRY(forEachNamed(
      root, "clusters", "cluster", [&](const std::string& name, const EntryReader& r) -> Status {
        KubeconfigCluster c;
        c.server = BERTH_TRY(r.string("server"));
        c.certificateAuthority = BERTH_TRY(r.file("certificate-authority", baseDir));
        c.certificateAuthorityData = BERTH_TRY(r.data("certificate-authority-data"));
        c.insecureSkipTlsVerify = BERTH_TRY(r.boolean("insecure-skip-tls-verify"));
        c.tlsServerName = BERTH_TRY(r.string("tls-server-name"));
        kc.clusters.emplace(name, std::move(c));
        return {};
      }));
  BERTH_TRY(forEachNamed(
      root, "users", "user", [&](const std::string& name, const EntryReader& r) -> Status {
        if (r.has("exec") || r.has("auth-provider"))
          return fail(Code::kUnimplemented,
                      "users[{}]: exec and auth-provider credentials are not supported", name);
        KubeconfigUser u;
        u.clientCertificate = BERTH_TRY(r.file("client-certificate", baseDir));
        u.clientCertificateData = BERTH_TRY(r.data("client-certificate-data"));
        u.clientKey = BERTH_TRY(r.file("client-key", baseDir));
        u.clientKeyData = BERTH_TRY(r.data("client-key-data"));
        u.token = BERTH_TRY(r.string("token"));
        u.tokenFile = BERTH_TRY(r.file("tokenFile", baseDir));
        u.username = BERTH_TRY(r.string("username"));
        u.password = BERTH_TRY(r.string("password"));
        kc.users.emplace(name, std::move(u));
        return {};
      }));
  BERTH_TRY(forEachNamed(root, "contexts", "context",
                         [&](const std::string& name, const EntryReader& r) -> Status {
                           KubeconfigContext c;
                           c.cluster = BERTH_TRY(r.string("cluster"));
                           c.user = BERTH_TRY(r.string("user"));
                           c.namespace_ = BERTH_TRY(r.string("namespace"));
                           kc.contexts.emplace(name, std::move(c));
                           return {};
                         }));
  kc.currentContext = BERTH_TRY(EntryReader(root, "kubeconfig").string("current-context"));
  return kc;
}

Result<Kubeconfig> Kubeconfig::load(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return std::unexpected(std::move(text).error().context(path.string()));
  auto kc = parse(*text, fs::absolute(path).parent_path());
  if (!kc) return std::unexpected(std::move(kc).error().context(path.string()));
  return kc;
}

Result<Kubeconfig> Kubeconfig::loadMerged(const std::vector<fs::path>& paths) {
  Kubeconfig merged;
  std::vector<fs::path> seen;
  for (const auto& p : paths) {
    if (p.empty() || std::find(seen.begin(), seen.end(), p) != seen.end()) continue;
    seen.push_back(p);
    std::error_code ec;
    if (!fs::exists(p, ec)) continue;
    auto kc = BERTH_TRY(load(p));
    // map::insert keeps an existing key: the first file to define a name wins.
    merged.clusters.insert(kc.clusters.begin(), kc.clusters.end());
    merged.users.insert(kc.users.begin(), kc.users.end());
    merged.contexts.insert(kc.contexts.begin(), kc.contexts.end());
    if (merged.currentContext.empty()) merged.currentContext = kc.currentContext;
  }
  return merged;
}

Result<Kubeconfig> Kubeconfig::loadDefault(const RestConfig::Getenv& getenv) {
  if (const char* list = getenv("KUBECONFIG"); list && *list) {
    std::vector<fs::path> paths;
    std::string_view rest = list;
    while (true) {
      auto colon = rest.find(':');
      paths.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    return loadMerged(paths);
  }
  const char* home = getenv("HOME");
  if (!home || !*home) return Kubeconfig();
  return loadMerged({fs::path(home) / ".kube" / "config"});
}

Result<RestConfig> Kubeconfig::restConfig(std::string_view contextName) const {
  std::string name(contextName.empty() ? std::string_view(currentContext) : contextName);
  if (name.empty())
    return fail(Code::kFailedPrecondition,
                "invalid configuration: no configuration has been provided (no current-context)");
  auto ctx = contexts.find(name);
  if (ctx == contexts.end())
    return fail(Code::kNotFound, "context was not found for specified context: {}", name);
  auto cluster = clusters.find(ctx->second.cluster);
  if (cluster == clusters.end())
    return fail(Code::kNotFound, "context {}: cluster {} not found", name, ctx->second.cluster);
  if (cluster->second.server.empty())
    return fail(Code::kInvalidArgument, "cluster {}: cluster has no server defined",
                ctx->second.cluster);
  RestConfig rc;
  rc.host = cluster->second.server;
  rc.caFile = cluster->second.certificateAuthority;
  rc.caData = cluster->second.certificateAuthorityData;
  rc.insecureSkipTlsVerify = cluster->second.insecureSkipTlsVerify;
  rc.tlsServerName = cluster->second.tlsServerName;
  if (!ctx->second.user.empty()) {
    auto user = users.find(ctx->second.user);
    if (user == users.end())
      return fail(Code::kNotFound, "context {}: user {} not found", name, ctx->second.user);
    const auto& u = user->second;
    rc.certFile = u.clientCertificate;
    rc.certData = u.clientCertificateData;
    rc.keyFile = u.clientKey;
    rc.keyData = u.clientKeyData;
    rc.bearerToken = u.token;
    rc.bearerTokenFile = u.tokenFile;
    rc.username = u.username;
    rc.password = u.password;
  }
  if (!ctx->second.namespace_.empty()) rc.defaultNamespace = ctx->second.namespace_;
  return rc;
}

std::string Kubeconfig::toYaml() const {
  YAML::Emitter out;
  auto data = [](std::string_view pem) { return base64Encode(pem); };
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, c] : clusters) {
    out << YAML::BeginMap << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
    if (!c.certificateAuthority.empty())
      out << YAML::Key << "certificate-authority" << YAML::Value << c.certificateAuthority;
    if (!c.certificateAuthorityData.empty())
      out << YAML::Key << "certificate-authority-data" << YAML::Value
          << data(c.certificateAuthorityData);
    if (c.insecureSkipTlsVerify)
      out << YAML::Key << "insecure-skip-tls-verify" << YAML::Value << true;
    out << YAML::Key << "server" << YAML::Value << c.server;
    if (!c.tlsServerName.empty())
      out << YAML::Key << "tls-server-name" << YAML::Value << c.tlsServerName;
    out << YAML::EndMap << YAML::Key << "name" << YAML::Value << name << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, c] : contexts) {
    out << YAML::BeginMap << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cluster" << YAML::Value << c.cluster;
    if (!c.namespace_.empty()) out << YAML::Key << "namespace" << YAML::Value << c.namespace_;
    out << YAML::Key << "user" << YAML::Value << c.user;
    out << YAML::EndMap << YAML::Key << "name" << YAML::Value << name << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << currentContext;
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "preferences" << YAML::Value << YAML::BeginMap << YAML::EndMap;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, u] : users) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
    auto field = [&](const char* key, const std::string& v) {
      if (!v.empty()) out << YAML::Key << key << YAML::Value << v;
    };
    field("client-certificate", u.clientCertificate);
    if (!u.clientCertificateData.empty())
      field("client-certificate-data", data(u.clientCertificateData));
    field("client-key", u.clientKey);
    if (!u.clientKeyData.empty()) field("client-key-data", data(u.clientKeyData));
    field("password", u.password);
    field("token", u.token);
    field("tokenFile", u.tokenFile);
    field("username", u.username);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Status Kubeconfig::write(const fs::path& path) const {
  return writeFileAtomic(path, toYaml(), 0600);
}

Kubeconfig Kubeconfig::embedded(std::string_view name, std::string_view server,
                                std::string_view caPem, std::string_view certPem,
                                std::string_view keyPem) {
  Kubeconfig kc;
  std::string n(name);
  kc.clusters[n] = {.server = std::string(server), .certificateAuthorityData = std::string(caPem)};
  kc.users[n] = {.clientCertificateData = std::string(certPem),
                 .clientKeyData = std::string(keyPem)};
  kc.contexts[n] = {.cluster = n, .user = n};
  kc.currentContext = n;
  return kc;
}

}  // namespace berth::kubeapi
