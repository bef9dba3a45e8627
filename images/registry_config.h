#pragma once
// Registry mirrors, credentials and TLS from /etc/berth/registries.yaml, in k3s' registries.yaml
// format (docs.k3s.io "Private Registry Configuration"):
//
//   mirrors:
//     docker.io:                     # the registry as written in image names ("*": every one)
//       endpoint:                    # tried in order, then the registry itself (https)
//         - "https://mirror.example.com:5000"
//       rewrite:                     # repository paths on the mirrors (not on the registry
//         "^rancher/(.*)": "mirrored/rancher/$1"   # itself): first matching regex, $1 groups
//     "127.0.0.1:5000":
//       endpoint: ["http://127.0.0.1:5000"]   # http:// is how a registry is marked insecure
//   configs:
//     "mirror.example.com:5000":     # an endpoint's host[:port]
//       auth: {username: u, password: p}      # or auth: <base64 u:p>, or identitytoken
//       tls:  {ca_file: /etc/ssl/ca.pem, cert_file: c.pem, key_file: k.pem,
//              insecure_skip_verify: false}
//
// Plain HTTP is used for endpoints written with http://, and verification is skipped for hosts
// with insecure_skip_verify. A loopback registry (localhost, 127.0.0.0/8, ::1) that registries.yaml
// gives no TLS settings is insecure by default, as containerd 2 treats it: HTTPS without
// verification, falling back to plain HTTP when the server answers the TLS handshake in plain
// HTTP (port 80: plain HTTP; no port or 443: HTTPS only). Everything else is HTTPS against the
// system CAs.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.h"
#include "common/result.h"

namespace berth::images {

inline constexpr const char* kDefaultRegistriesYaml = "/etc/berth/registries.yaml";

// Credentials for one registry (CRI AuthConfig has the same fields).
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string identityToken;  // an OAuth2 refresh token, exchanged at the Bearer realm
  std::string registryToken;  // a bearer token sent as it is, no token request
};

// docker's `auth` field: base64("user:password") → (user, password).
[[nodiscard]] Result<std::pair<std::string, std::string>> decodeBasicAuth(std::string_view base64);

struct RegistryHostConfig {
  std::optional<RegistryAuth> auth;
  TlsOptions tls;
  bool tlsConfigured = false;  // a `tls` entry was given: used as written, no loopback default
};

// localhost, 127.0.0.0/8 or ::1, with or without a port ("[::1]:5000", "localhost:5000").
bool isLoopbackRegistry(std::string_view host);

struct RegistryEndpoint {
  std::string url;   // scheme://host[:port][/path], no trailing slash
  std::string host;  // host[:port], the key into configs
  bool plainHttp = false;
  bool isDefault = false;  // the registry itself rather than a mirror
  // HTTPS first; when the server answers the handshake in plain HTTP, HTTP from then on (a
  // loopback registry without TLS settings).
  bool httpFallback = false;
  TlsOptions tls;
  std::optional<RegistryAuth> auth;
  std::vector<std::pair<std::string, std::string>> rewrites;  // regex, replacement (mirrors only)

  // The repository path to ask this endpoint for: the first matching rewrite applied.
  std::string repository(const std::string& path) const;
};

struct RegistryMirror {
  std::vector<std::string> endpoints;
  std::vector<std::pair<std::string, std::string>> rewrites;
};

class RegistryConfig {
 public:
  RegistryConfig() = default;
  // Errors name the file and the YAML path: "registries.yaml: mirrors.docker.io.endpoint[1]: ...".
  [[nodiscard]] static Result<RegistryConfig> parse(std::string_view yaml, std::string_view source);
  // A file that does not exist is an empty configuration.
  [[nodiscard]] static Result<RegistryConfig> load(const std::filesystem::path& path);

  // Where to pull images named with this registry host: its mirrors in order (or those of "*"),
  // then the registry itself over HTTPS (docker.io is registry-1.docker.io; a loopback registry
  // as described above).
  std::vector<RegistryEndpoint> endpoints(std::string_view registry) const;

 private:
  std::map<std::string, RegistryMirror> mirrors_;
  std::map<std::string, RegistryHostConfig> configs_;
};

}  // namespace berth::images
