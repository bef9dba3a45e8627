#pragma once
// What a REST client needs to reach one API server (client-go's rest.Config): where, how to
// check the server, who we are, and the client-side rate limits. Built from a kubeconfig
// (kubeconfig.h) or, inside a pod, from the service account files (inCluster).
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "common/result.h"

namespace berth::kubeapi {

struct RestConfig {
  std::string host;  // "https://127.0.0.1:6443", optionally with a path prefix

  // Server verification. Data (PEM) wins over a file when both are set, as kubectl does.
  std::string caFile;
  std::string caData;
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName;  // SNI and the name checked, when not the host's

  // Client identity: a certificate and key (files or PEM data), a bearer token (or a file
  // re-read as it changes, as projected service account tokens rotate), or basic auth.
  std::string certFile;
  std::string certData;
  std::string keyFile;
  std::string keyData;
  std::string bearerToken;
  std::string bearerTokenFile;
  std::string username;
  std::string password;

  // The namespace of the chosen context (or the pod's), "default" when none is set.
  std::string defaultNamespace = "default";

  // client-go's defaults: 5 requests/s with bursts of 10. qps <= 0 disables the limiter.
  double qps = 5;
  int burst = 10;
  std::string userAgent = "berth/" BERTH_VERSION;
  // Whole-request timeout for non-watch requests; 0 = none.
  std::chrono::milliseconds timeout{0};

  // rest.InClusterConfig: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the token
  // file (re-read when it rotates) and ca.crt of the service account directory; the namespace
  // from $POD_NAMESPACE or the directory's namespace file. Not in a cluster (the variables
  // unset) is kNotFound with client-go's message.
  using Getenv = std::function<const char*(const char*)>;
  [[nodiscard]] static Result<RestConfig> inCluster(
      const Getenv& getenv = ::getenv,
      const std::filesystem::path& serviceAccountDir = kServiceAccountDir);

  static constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

}  // namespace berth::kubeapi
