#include "kubeapi/rest_config.h"

#include <fmt/format.h>

#include "common/file_util.h"

namespace berth::kubeapi {

Result<RestConfig> RestConfig::inCluster(const Getenv& getenv,
                                         const std::filesystem::path& serviceAccountDir) {
  const char* host = getenv("KUBERNETES_SERVICE_HOST");
  const char* port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return fail(Code::kNotFound,
                "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                "KUBERNETES_SERVICE_PORT must be defined");
  RestConfig c;
  std::string_view h = host;
  // net.JoinHostPort: an IPv6 address gets brackets.
  c.host = h.find(':') != std::string_view::npos ? fmt::format("https://[{}]:{}", h, port)
                                                 : fmt::format("https://{}:{}", h, port);
  auto tokenFile = serviceAccountDir / "token";
  auto token = readFile(tokenFile);
  if (!token) return std::unexpected(std::move(token).error().context("in-cluster token"));
  c.bearerToken = *token;
  c.bearerTokenFile = tokenFile.string();
  // client-go logs a missing CA and goes on; so do we (verification then uses the system CAs).
  if (std::filesystem::exists(serviceAccountDir / "ca.crt"))
    c.caFile = (serviceAccountDir / "ca.crt").string();
  if (const char* ns = getenv("POD_NAMESPACE"); ns && *ns) {
    c.defaultNamespace = ns;
  } else if (auto ns = readFile(serviceAccountDir / "namespace"); ns) {
    std::string_view v = *ns;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
      v.remove_suffix(1);
    if (!v.empty()) c.defaultNamespace = v;
  }
  return c;
}

}  // namespace berth::kubeapi
