#include "kubeapi/api_error.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/ascii.h"

namespace berth::kubeapi {
namespace {

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

}  // namespace

ApiStatus genericServerResponse(int code, std::string_view verb, const GroupResource& resource,
                                std::string_view name, std::string_view serverMessage,
                                int retryAfterSeconds, bool isUnexpectedResponse) {
  std::string_view why = reason::kUnknown;
  std::string message = fmt::format(
      "the server responded with the status code {} but did not return more information", code);
  switch (code) {
    case 409:
      why = verb == "POST" ? reason::kAlreadyExists : reason::kConflict;
      message = "the server reported a conflict";
      break;
    case 404:
      why = reason::kNotFound;
      message = "the server could not find the requested resource";
      break;
    case 400:
      why = reason::kBadRequest;
      message = "the server rejected our request for an unknown reason";
      break;
    case 401:
      why = reason::kUnauthorized;
      message = "the server has asked for the client to provide credentials";
      break;
    case 403:
      why = reason::kForbidden;
      message = std::string(serverMessage);
      break;
    case 406:
      why = reason::kNotAcceptable;
      message = serverMessage.empty() || serverMessage == "unknown"
                    ? "the server was unable to respond with a content type that the client "
                      "supports"
                    : std::string(serverMessage);
      break;
    case 415:
      why = reason::kUnsupportedMediaType;
      message = std::string(serverMessage);
      break;
    case 405:
      why = reason::kMethodNotAllowed;
      message = "the server does not allow this method on the requested resource";
      break;
    case 422:
      why = reason::kInvalid;
      message = "the server rejected our request due to an error in our request";
      break;
    case 503:
      why = reason::kServiceUnavailable;
      message = "the server is currently unable to handle the request";
      break;
    case 504:
      why = reason::kTimeout;
      message =
          "the server was unable to return a response in the time allotted, but may still be "
          "processing the request";
      break;
    case 429:
      why = reason::kTooManyRequests;
      message = "the server has received too many requests and has asked us to try again later";
      break;
    default:
      if (code >= 500) {
        why = reason::kInternalError;
        message =
            fmt::format("an error on the server (\"{}\") has prevented the request from succeeding",
                        serverMessage);
      }
  }
  if (!resource.empty() && !name.empty()) {
    message = fmt::format("{} ({} {} {})", message, asciiLower(verb), resource.str(), name);
  } else if (!resource.empty()) {
    message = fmt::format("{} ({} {})", message, asciiLower(verb), resource.str());
  }
  ApiStatus s;
  s.code = code;
  s.reason = why;
  s.message = std::move(message);
  s.details.group = resource.group;
  s.details.kind = resource.resource;
  s.details.name = name;
  s.details.retryAfterSeconds = retryAfterSeconds;
  if (isUnexpectedResponse)
    s.details.causes.push_back({"UnexpectedServerResponse", std::string(serverMessage), ""});
  return s;
}

ApiError ApiError::fromResponse(int httpStatus, std::string_view body, std::string_view contentType,
                                const RequestTarget& target, int retryAfterSeconds) {
  ApiError e;
  e.httpStatus_ = httpStatus;
  e.target_ = target;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_discarded()) {
    if (auto st = ApiStatus::fromJson(parsed); st && st->isFailure()) {
      e.status_ = std::move(*st);
      e.code_ = codeForStatus(e.status_.reason, e.status_.code ? e.status_.code : httpStatus);
      return e;
    }
  }
  // Messages from servers that did not send a Status: client-go keeps a text/* body (capped at
  // 2048 bytes) and says "unknown" for anything else.
  std::string message = "unknown";
  if (asciiLower(trimSpace(contentType)).starts_with("text/"))
    message = std::string(trimSpace(body.substr(0, std::min<size_t>(body.size(), 2048))));
  e.status_ = genericServerResponse(httpStatus, target.verb, target.resource, target.name, message,
                                    retryAfterSeconds, true);
  e.code_ = codeForStatus(e.status_.reason, httpStatus);
  return e;
}

ApiError ApiError::fromStatus(ApiStatus status, const RequestTarget& target) {
  ApiError e;
  e.httpStatus_ = status.code;
  e.target_ = target;
  e.code_ = codeForStatus(status.reason, status.code);
  e.status_ = std::move(status);
  return e;
}

ApiError ApiError::transport(Error error, const RequestTarget& target) {
  ApiError e;
  e.code_ = error.code();
  e.target_ = target;
  e.status_.message = error.message();
  return e;
}

Error ApiError::toError() const {
  if (httpStatus_ != 0 || target_.verb.empty()) return Error(code_, status_.message);
  std::string what = asciiLower(target_.verb);
  if (!target_.resource.empty()) what += " " + target_.resource.str();
  if (!target_.namespace_.empty() && !target_.name.empty()) {
    what += " " + target_.namespace_ + "/" + target_.name;
  } else if (!target_.name.empty()) {
    what += " " + target_.name;
  } else if (!target_.namespace_.empty()) {
    what += " in " + target_.namespace_;
  }
  return Error(code_, fmt::format("{}: {}", what, status_.message));
}

}  // namespace berth::kubeapi
