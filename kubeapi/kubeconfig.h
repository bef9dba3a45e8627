#pragma once
// kubeconfig files as kubectl reads and writes them (clientcmd's v1 Config): clusters, users
// and contexts by name, current-context; certificate and key as files or embedded data, bearer
// token or token file, basic auth, insecure-skip-tls-verify, tls-server-name. Relative file
// paths are resolved against the kubeconfig's own directory. Unknown fields (preferences,
// extensions) are ignored; exec and auth-provider users are an error naming the user, since we
// run no credential plugins.
//
// KUBECONFIG lists merge as kubectl merges them: files are read in order, missing ones
// skipped, the first file to define a cluster, user or context name wins, and so does the
// first current-context.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kubeapi/rest_config.h"

namespace berth::kubeapi {

struct KubeconfigCluster {
  std::string server;
  std::string certificateAuthority;      // file
  std::string certificateAuthorityData;  // PEM (decoded)
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName;
  bool operator==(const KubeconfigCluster&) const = default;
};

struct KubeconfigUser {
  std::string clientCertificate;      // file
  std::string clientCertificateData;  // PEM (decoded)
  std::string clientKey;
  std::string clientKeyData;
  std::string token;
  std::string tokenFile;
  std::string username;
  std::string password;
  bool operator==(const KubeconfigUser&) const = default;
};

struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
  bool operator==(const KubeconfigContext&) const = default;
};

class Kubeconfig {
 public:
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  std::string currentContext;

  // `baseDir` resolves relative file paths (the file's directory).
  [[nodiscard]] static Result<Kubeconfig> parse(std::string_view yaml,
                                                const std::filesystem::path& baseDir = {});
  [[nodiscard]] static Result<Kubeconfig> load(const std::filesystem::path& path);
  // Merges the files in order (kubectl's precedence); files that don't exist are skipped.
  [[nodiscard]] static Result<Kubeconfig> loadMerged(
      const std::vector<std::filesystem::path>& paths);
  // kubectl's choice: $KUBECONFIG (a ':'-separated list) when set, else ~/.kube/config.
  [[nodiscard]] static Result<Kubeconfig> loadDefault(const RestConfig::Getenv& getenv = ::getenv);

  // The client configuration of a context ("" = current-context).
  [[nodiscard]] Result<RestConfig> restConfig(std::string_view context = {}) const;

  // The YAML kubectl writes: apiVersion v1, kind Config, data fields base64-encoded.
  std::string toYaml() const;
  // Written atomically with mode 0600 (it holds keys or tokens).
  [[nodiscard]] Status write(const std::filesystem::path& path) const;

  // A one-context kubeconfig with everything embedded (what berth-server writes as
  // admin.kubeconfig): cluster, user and context all named `name`.
  static Kubeconfig embedded(std::string_view name, std::string_view server, std::string_view caPem,
                             std::string_view certPem, std::string_view keyPem);
};

}  // namespace berth::kubeapi
