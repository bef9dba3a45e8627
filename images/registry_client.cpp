#include "images/registry_client.h"

#include <algorithm>

#include "images/digest.h"
#include "ocispec/json_reader.h"

namespace berth::images {
namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    // Asked for only to recognise and refuse it clearly.
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

std::string base64Encode(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string percentEncode(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// A string property of a JSON object, or "" (never throws, whatever the document holds).
std::string stringField(const ocispec::Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// distribution-spec "Error Codes": {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}.
struct RegistryErrorBody {
  std::string code;
  std::string message;
  std::string text() const { return code.empty() ? message : code + ": " + message; }
};

RegistryErrorBody registryError(std::string_view body) {
  auto doc = ocispec::Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array() ||
      doc["errors"].empty()) {
    return {};
  }
  const auto& e = doc["errors"][0];
  return {stringField(e, "code"), stringField(e, "message")};
}

}  // namespace

Result<AuthChallenge> parseAuthChallenge(std::string_view header) {
  AuthChallenge out;
  while (!header.empty() && header.front() == ' ')
    header.remove_prefix(1);
  auto space = header.find(' ');
  out.scheme = std::string(header.substr(0, space));
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme.empty()) return fail(Code::kUnauthenticated, "empty WWW-Authenticate challenge");
  if (space == std::string_view::npos) return out;
  std::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ','))
      rest.remove_prefix(1);
    auto eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string key(rest.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      while (!rest.empty() && rest.front() != '"') {
        if (rest.front() == '\\' && rest.size() > 1) rest.remove_prefix(1);
        value += rest.front();
        rest.remove_prefix(1);
      }
      if (rest.empty()) return fail(Code::kUnauthenticated, "unterminated quote in challenge");
      rest.remove_prefix(1);
    } else {
      auto comma = rest.find(',');
      value = std::string(rest.substr(0, comma));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
    }
    out.params[key] = value;
  }
  return out;
}

RegistryClient::RegistryClient(RegistryEndpoint endpoint, std::string repository)
    : RegistryClient(std::move(endpoint), std::move(repository), std::make_shared<AuthState>()) {
  // CRI AuthConfig.registry_token: a bearer token to send from the first request on.
  if (endpoint_.auth && !endpoint_.auth->registryToken.empty()) {
    auth_->authorization = "Bearer " + endpoint_.auth->registryToken;
  }
}

RegistryClient::RegistryClient(RegistryEndpoint endpoint, std::string repository,
                               std::shared_ptr<AuthState> auth)
    : endpoint_(std::move(endpoint)),
      repository_(std::move(repository)),
      auth_(std::move(auth)),
      http_(endpoint_.tls) {}

RegistryClient RegistryClient::clone() const {
  return RegistryClient(endpoint_, repository_, auth_);
}

void RegistryClient::useHttp(HttpRequest& request) {
  std::string https = endpoint_.url;
  endpoint_.url = "http://" + endpoint_.url.substr(endpoint_.url.find("://") + 3);
  endpoint_.plainHttp = true;
  endpoint_.httpFallback = false;
  if (request.url.starts_with(https))
    request.url = endpoint_.url + request.url.substr(https.size());
}

std::string RegistryClient::url(std::string_view path) const {
  return fmt::format("{}/v2/{}", endpoint_.url, path);
}

Error RegistryClient::httpError(const HttpRequest& req, const HttpResponse& res,
                                std::string_view what) const {
  RegistryErrorBody body = registryError(res.body);
  Code code = Code::kUnknown;
  std::string cause;
  if (res.status == 401) {
    code = Code::kUnauthenticated;
    cause = "authentication required: ";
  } else if (res.status == 403) {
    code = Code::kPermissionDenied;
    cause = "access denied: ";
  } else if (res.status == 404) {
    code = Code::kNotFound;
    cause = body.code == "NAME_UNKNOWN" ? fmt::format("repository {} not found: ", repository_)
                                        : fmt::format("{} not found: ", what);
  } else if (res.status == 429 || res.status >= 500) {
    // The registry is there but can't serve now (distribution-spec TOOMANYREQUESTS, a 5xx).
    code = Code::kUnavailable;
    cause = "the registry can't serve it now: ";
  }
  std::string detail = body.text();
  // Where the answer came from: after redirects, or over HTTP after the loopback fallback.
  const std::string& where = res.effectiveUrl.empty() ? req.url : res.effectiveUrl;
  return Error(code, fmt::format("{}{} {}: HTTP {}{}", cause, req.method, where, res.status,
                                 detail.empty() ? "" : " (" + detail + ")"));
}

Status RegistryClient::authenticate(const HttpResponse& unauthorized) {
  std::string header = unauthorized.header("www-authenticate");
  if (header.empty()) {
    return fail(Code::kUnauthenticated, "{}: HTTP 401 without a WWW-Authenticate challenge",
                endpoint_.url);
  }
  auto challenge = BERTH_TRY(parseAuthChallenge(header));
  const auto& creds = endpoint_.auth;
  std::string authorization;
  if (challenge.scheme == "basic") {
    if (!creds || creds->username.empty()) {
      return fail(Code::kUnauthenticated,
                  "{} wants credentials (configs.\"{}\".auth in registries.yaml, or the pull's)",
                  endpoint_.url, endpoint_.host);
    }
    authorization = "Basic " + base64Encode(creds->username + ":" + creds->password);
  } else if (challenge.scheme == "bearer") {
    auto realm = challenge.params.find("realm");
    if (realm == challenge.params.end() || realm->second.empty()) {
      return fail(Code::kUnauthenticated, "{}: Bearer challenge without a realm", endpoint_.url);
    }
    std::string scope = fmt::format("repository:{}:pull", repository_);
    if (auto s = challenge.params.find("scope"); s != challenge.params.end()) scope = s->second;
    std::string tokenUrl = realm->second;
    tokenUrl += tokenUrl.find('?') == std::string::npos ? '?' : '&';
    if (auto s = challenge.params.find("service"); s != challenge.params.end()) {
      tokenUrl += "service=" + percentEncode(s->second) + "&";
    }
    tokenUrl += "scope=" + percentEncode(scope);
    HttpRequest req{.url = tokenUrl};
    if (creds && !creds->identityToken.empty()) {
      // docker's token spec "OAuth2 token": an identity token is a refresh token, POSTed as a
      // form to the realm (docker login stores one when the registry supports OAuth).
      req = HttpRequest{.method = "POST",
                        .url = realm->second,
                        .headers = {"Content-Type: application/x-www-form-urlencoded"}};
      req.body = "grant_type=refresh_token&client_id=berth&refresh_token=" +
                 percentEncode(creds->identityToken) + "&scope=" + percentEncode(scope);
      if (auto s = challenge.params.find("service"); s != challenge.params.end()) {
        req.body += "&service=" + percentEncode(s->second);
      }
    } else if (creds && !creds->username.empty()) {
      req.basicAuth = std::make_pair(creds->username, creds->password);
    }
    auto res = BERTH_TRY_CTX(http_.send(req), "get a registry token");
    if (res.status == 401 || res.status == 403) {
      return fail(res.status == 401 ? Code::kUnauthenticated : Code::kPermissionDenied,
                  "get a registry token from {}: HTTP {}: {}", realm->second, res.status,
                  creds ? "wrong username or password" : "credentials needed");
    }
    if (res.status != 200) {
      return std::unexpected(httpError(req, res, "token").context("get a registry token"));
    }
    auto doc = ocispec::Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
    std::string token = stringField(doc, "token");
    if (token.empty()) token = stringField(doc, "access_token");
    if (token.empty()) {
      return fail(Code::kUnauthenticated, "token response from {} has no token", realm->second);
    }
    authorization = "Bearer " + token;
  } else {
    return fail(Code::kUnauthenticated, "{}: unsupported auth scheme \"{}\"", endpoint_.url,
                challenge.scheme);
  }
  std::lock_guard lock(auth_->mu);
  auth_->authorization = std::move(authorization);
  return {};
}

Result<HttpResponse> RegistryClient::send(HttpRequest request) {
  std::vector<std::string> baseHeaders = request.headers;
  for (int attempt = 0; attempt < 2; ++attempt) {
    request.headers = baseHeaders;
    {
      std::lock_guard lock(auth_->mu);
      if (!auth_->authorization.empty()) {
        request.headers.push_back("Authorization: " + auth_->authorization);
      }
    }
    auto sent = http_.send(request);
    if (!sent && endpoint_.httpFallback && http_.lastFailure() == TransportFailure::kTls) {
      // The server answered the TLS handshake in plain HTTP (or not at all): an insecure
      // loopback registry speaks HTTP, from now on and for the clones made after this.
      useHttp(request);
      sent = http_.send(request);
    }
    auto res = BERTH_TRY(std::move(sent));
    if (res.status != 401) return res;
    if (attempt == 1) {
      return fail(Code::kUnauthenticated, "{} {}: HTTP 401: {}", request.method, request.url,
                  endpoint_.auth ? "wrong username or password" : "credentials needed");
    }
    BERTH_TRY(authenticate(res));
  }
  return fail(Code::kInternal, "unreachable");
}

Status RegistryClient::ping() {
  HttpRequest req{.url = url("")};
  auto res = BERTH_TRY(send(req));
  if (res.status != 200) return std::unexpected(httpError(req, res, "the API root /v2/"));
  return {};
}

Result<FetchedManifest> RegistryClient::getManifest(std::string_view reference) {
  HttpRequest req{.url = url(fmt::format("{}/manifests/{}", repository_, reference)),
                  .headers = {kManifestAccept}};
  auto res = BERTH_TRY(send(req));
  if (res.status != 200) {
    return std::unexpected(httpError(req, res, fmt::format("manifest {}", reference)));
  }
  FetchedManifest out;
  out.body = std::move(res.body);
  out.digest = sha256Of(out.body);
  out.kind = ocispec::detectManifestKind(res.header("content-type"), out.body);
  if (reference.starts_with("sha256:") && reference != out.digest) {
    return fail(Code::kDataLoss, "manifest {} from {}: content digest is {}", reference,
                endpoint_.url, out.digest);
  }
  std::string advertised = res.header("docker-content-digest");
  if (out.kind != ocispec::ManifestKind::kSchema1 && advertised.starts_with("sha256:") &&
      advertised != out.digest) {
    return fail(Code::kDataLoss, "manifest {} from {}: Docker-Content-Digest {} but content is {}",
                reference, endpoint_.url, advertised, out.digest);
  }
  auto doc = ocispec::Json::parse(out.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("mediaType") && doc["mediaType"].is_string()) {
    out.mediaType = doc["mediaType"].get<std::string>();
  } else {
    out.mediaType = res.header("content-type");
  }
  return out;
}

Status RegistryClient::fetchBlob(BlobWriter& writer) {
  int64_t offset = writer.offset();
  HttpRequest req{.url = url(fmt::format("{}/blobs/{}", repository_, writer.digest()))};
  if (offset > 0 && offset < writer.expectedSize()) {
    req.headers.push_back(fmt::format("Range: bytes={}-", offset));
  } else if (offset > 0) {
    // All bytes are there already: the commit decides.
    return writer.commit();
  }
  req.onResponse = [&](const HttpResponse& res) -> Status {
    if (offset > 0 && res.status != 206) return writer.restart();  // the server sent it all
    return {};
  };
  req.onData = [&](std::string_view chunk) { return writer.write(chunk.data(), chunk.size()); };
  auto res = BERTH_TRY_CTX(send(std::move(req)), "fetch blob " + writer.digest());
  if (res.status == 416 && offset > 0) {
    // Range not satisfiable: start over.
    BERTH_TRY(writer.restart());
    return fetchBlob(writer);
  }
  if (res.status < 200 || res.status >= 300) {
    HttpRequest shown{.url = url(fmt::format("{}/blobs/{}", repository_, writer.digest()))};
    return std::unexpected(httpError(shown, res, "blob " + writer.digest()));
  }
  return writer.commit();
}

}  // namespace berth::images
