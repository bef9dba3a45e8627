#pragma once
// One repository on one registry endpoint, over the OCI distribution API (distribution-spec
// "Pulling"): the /v2/ ping, manifests by tag or digest, blobs streamed into the content store
// with ranged requests to resume. Authentication follows the registry's WWW-Authenticate
// challenge: anonymous, Basic with the configured credentials, or a Bearer token from the
// challenge's realm (service, scope "repository:<path>:pull"; docker's token spec), cached and
// shared by the clones made for parallel downloads.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/result.h"
#include "images/blob_writer.h"
#include "images/registry_config.h"
#include "ocispec/image_spec.h"

namespace berth::images {

struct FetchedManifest {
  std::string body;
  std::string mediaType;  // from the document, else the Content-Type
  std::string digest;     // sha256 of the body, checked against Docker-Content-Digest
  ocispec::ManifestKind kind = ocispec::ManifestKind::kUnknown;
};

// A WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."`.
struct AuthChallenge {
  std::string scheme;  // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;
};
[[nodiscard]] Result<AuthChallenge> parseAuthChallenge(std::string_view header);

class RegistryClient {
 public:
  RegistryClient(RegistryEndpoint endpoint, std::string repository);

  const RegistryEndpoint& endpoint() const { return endpoint_; }
  // A client for another thread: its own connection, the same credentials and token.
  RegistryClient clone() const;

  // GET /v2/: reachable, and what authentication it wants.
  [[nodiscard]] Status ping();
  // GET /v2/<repo>/manifests/<reference>, accepting OCI and Docker schema 2 indexes and manifests.
  // A digest reference must match the body.
  [[nodiscard]] Result<FetchedManifest> getManifest(std::string_view reference);
  // GET /v2/<repo>/blobs/<digest> into the writer, from its offset (Range) when it has one.
  [[nodiscard]] Status fetchBlob(BlobWriter& writer);

 private:
  struct AuthState {
    std::mutex mu;
    std::string authorization;  // the header value to send, "" for none yet
  };
  RegistryClient(RegistryEndpoint endpoint, std::string repository,
                 std::shared_ptr<AuthState> auth);
  // Sends with the current Authorization; on 401 answers the challenge once and resends.
  [[nodiscard]] Result<HttpResponse> send(HttpRequest request);
  [[nodiscard]] Status authenticate(const HttpResponse& unauthorized);
  std::string url(std::string_view path) const;
  // Switches an httpFallback endpoint to plain HTTP, and the request with it.
  void useHttp(HttpRequest& request);
  // A non-success answer about `what` ("manifest latest") as an Error whose code says why: 404
  // kNotFound, 401 kUnauthenticated, 403 kPermissionDenied, 429 and 5xx kUnavailable, else
  // kUnknown; the message quotes the registry's error code and message.
  Error httpError(const HttpRequest& req, const HttpResponse& res, std::string_view what) const;

  RegistryEndpoint endpoint_;
  std::string repository_;
  std::shared_ptr<AuthState> auth_;
  HttpClient http_;
};

}  // namespace berth::images
