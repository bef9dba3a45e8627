#include <gtest/gtest.h>

#include "kubeapi/api_error.h"
#include "kubeapi/status_errors.h"

namespace berth::kubeapi {
namespace {

const GroupResource kPods{"", "pods"};
const GroupResource kDeployments{"apps", "deployments"};

TEST(ApiStatus, NotFoundBodyIsTheApiserversByteForByte) {
  EXPECT_EQ(notFoundStatus(kPods, "x").body(),
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"pods \"x\" not found","reason":"NotFound",)"
            R"("details":{"name":"x","kind":"pods"},"code":404})");
}

TEST(ApiStatus, BuildersHaveUpstreamCodesReasonsAndMessages) {
  FieldErrorList imageRequired = {
      FieldError::required(FieldPath("spec").child("containers").index(0).child("image"))};
  struct Case {
    ApiStatus status;
    int code;
    std::string_view reason;
    std::string message;
  };
  std::vector<Case> cases = {
      {notFoundStatus(kDeployments, "web"), 404, reason::kNotFound,
       R"(deployments.apps "web" not found)"},
      {alreadyExistsStatus(kPods, "x"), 409, reason::kAlreadyExists, R"(pods "x" already exists)"},
      {optimisticLockConflictStatus(kPods, "x"), 409, reason::kConflict,
       R"(Operation cannot be fulfilled on pods "x": the object has been modified; please )"
       R"(apply your changes to the latest version and try again)"},
      {invalidStatus({"", "Pod"}, "x", imageRequired), 422, reason::kInvalid,
       R"(Pod "x" is invalid: spec.containers[0].image: Required value)"},
      {invalidStatus({"apps", "Deployment"}, "d",
                     {FieldError::required(FieldPath("spec").child("selector")),
                      FieldError::invalid(FieldPath("spec").child("replicas"), -1,
                                          "must be greater than or equal to 0")}),
       422, reason::kInvalid,
       R"(Deployment.apps "d" is invalid: [spec.selector: Required value, spec.replicas: )"
       R"(Invalid value: -1: must be greater than or equal to 0])"},
      {invalidStatus({"", "Pod"}, "x", {}), 422, reason::kInvalid, R"(Pod "x" is invalid)"},
      {badRequestStatus("bad"), 400, reason::kBadRequest, "bad"},
      {unauthorizedStatus(""), 401, reason::kUnauthorized, "not authorized"},
      {unauthorizedStatus("Unauthorized"), 401, reason::kUnauthorized, "Unauthorized"},
      {forbiddenStatus(kPods, "",
                       R"(User "system:anonymous" cannot list resource "pods" in API group "" )"
                       R"(in the namespace "default")"),
       403, reason::kForbidden,
       R"(pods is forbidden: User "system:anonymous" cannot list resource "pods" in API )"
       R"(group "" in the namespace "default")"},
      {forbiddenStatus(kPods, "x", "no"), 403, reason::kForbidden, R"(pods "x" is forbidden: no)"},
      {forbiddenStatus({}, "", "no"), 403, reason::kForbidden, "forbidden: no"},
      {methodNotSupportedStatus(kPods, "create"), 405, reason::kMethodNotAllowed,
       R"(create is not supported on resources of kind "pods")"},
      {goneStatus("gone"), 410, reason::kGone, "gone"},
      {tooOldResourceVersionStatus(5, 10), 410, reason::kExpired,
       "too old resource version: 5 (10)"},
      {timeoutStatus("request did not complete within 60s", 1), 504, reason::kTimeout,
       "Timeout: request did not complete within 60s"},
      {serverTimeoutStatus(kPods, "create", 2), 500, reason::kServerTimeout,
       "The create operation against pods could not be completed at this time, please try "
       "again."},
      {tooManyRequestsStatus("slow down", 3), 429, reason::kTooManyRequests,
       "Too many requests: slow down"},
      {requestEntityTooLargeStatus("limit is 3145728"), 413, reason::kRequestEntityTooLarge,
       "Request entity too large: limit is 3145728"},
      {unsupportedMediaTypeStatus({"application/json", "application/yaml"}), 415,
       reason::kUnsupportedMediaType,
       "the body of the request was in an unknown format - accepted media types include: "
       "application/json, application/yaml"},
      {notAcceptableStatus({"application/json"}), 406, reason::kNotAcceptable,
       "only the following media types are accepted: application/json"},
      {internalErrorStatus("disk on fire"), 500, reason::kInternalError,
       "Internal error occurred: disk on fire"},
      {serviceUnavailableStatus("not ready"), 503, reason::kServiceUnavailable, "not ready"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.status.code, c.code) << c.message;
    EXPECT_EQ(c.status.reason, c.reason) << c.message;
    EXPECT_EQ(c.status.message, c.message);
    EXPECT_EQ(c.status.status, "Failure");
    // Every Status survives its own JSON.
    auto back = ApiStatus::fromJson(nlohmann::json::parse(c.status.body()));
    ASSERT_TRUE(back) << c.message;
    EXPECT_EQ(*back, c.status);
  }
}

TEST(ApiStatus, InvalidCarriesOneCausePerFieldError) {
  auto s = invalidStatus(
      {"", "Pod"}, "x",
      {FieldError::required(FieldPath("spec").child("containers").index(0).child("image")),
       FieldError::notSupported(FieldPath("spec").child("restartPolicy"), "Sometimes",
                                {"Always", "Never"})});
  ASSERT_EQ(s.details.causes.size(), 2u);
  EXPECT_EQ(s.details.causes[0],
            (StatusCause{"FieldValueRequired", "Required value", "spec.containers[0].image"}));
  EXPECT_EQ(s.details.causes[1],
            (StatusCause{"FieldValueNotSupported",
                         R"(Unsupported value: "Sometimes": supported values: "Always", "Never")",
                         "spec.restartPolicy"}));
  EXPECT_EQ(s.details.kind, "Pod");
  EXPECT_EQ(s.details.name, "x");
  auto j = s.toJson();
  EXPECT_EQ(j["details"]["causes"][0]["reason"], "FieldValueRequired");
  EXPECT_EQ(j["details"]["causes"][0]["field"], "spec.containers[0].image");
}

TEST(ApiStatus, RetryAfterAndSuccess) {
  auto s = tooManyRequestsStatus("x", 7);
  EXPECT_EQ(s.toJson()["details"]["retryAfterSeconds"], 7);
  auto ok = successStatus(kPods, "x", "u1");
  auto j = ok.toJson();
  EXPECT_EQ(j["status"], "Success");
  EXPECT_FALSE(j.contains("code"));
  EXPECT_EQ(j["details"], (nlohmann::json{{"name", "x"}, {"kind", "pods"}, {"uid", "u1"}}));
}

TEST(ApiStatus, BodiesNeverThrowOnBytesThatAreNotUtf8) {
  auto body = badRequestStatus("bad \xff byte").body();
  EXPECT_NE(body.find("bad \xef\xbf\xbd byte"), std::string::npos) << body;  // U+FFFD
  EXPECT_EQ(notFoundStatus(kPods, "\xff").message, R"(pods "\xff" not found)");
}

TEST(ApiStatus, FromJsonRejectsOtherKinds) {
  EXPECT_FALSE(ApiStatus::fromJson(nlohmann::json{{"kind", "Pod"}}));
  EXPECT_FALSE(ApiStatus::fromJson(nlohmann::json::array()));
}

TEST(FieldError, BodiesPrintValuesAsGoDoes) {
  FieldPath p("spec");
  struct Case {
    FieldError e;
    std::string text;
  };
  std::vector<Case> cases = {
      {FieldError::invalid(p, "a\"b\n", "bad"), R"(spec: Invalid value: "a\"b\n": bad)"},
      {FieldError::invalid(p, 5, "bad"), "spec: Invalid value: 5: bad"},
      {FieldError::invalid(p, 1.5, "bad"), "spec: Invalid value: 1.5: bad"},
      {FieldError::invalid(p, true, "bad"), "spec: Invalid value: true: bad"},
      {FieldError::invalid(p, nullptr, "bad"), "spec: Invalid value: null: bad"},
      {FieldError::invalid(p, nlohmann::json::array({"a", "b"}), "bad"),
       R"(spec: Invalid value: []string{"a", "b"}: bad)"},
      {FieldError::tooLong(p, 10), "spec: Too long: may not be more than 10 bytes"},
      {FieldError::tooMany(p, 5, 3), "spec: Too many: 5: must have at most 3 items"},
      {FieldError::forbidden(p, "nope"), "spec: Forbidden: nope"},
      {FieldError::duplicate(p.child("x").key("k"), "v"), R"(spec.x[k]: Duplicate value: "v")"},
      {FieldError::notFound(p, "v"), R"(spec: Not found: "v")"},
      {FieldError::required(FieldPath(), ""), "<nil>: Required value"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(c.e.str(), c.text);
}

TEST(ApiError, TakesTheServersStatus) {
  RequestTarget target{"GET", kPods, "default", "x"};
  auto e =
      ApiError::fromResponse(404, notFoundStatus(kPods, "x").body(), "application/json", target);
  EXPECT_EQ(e.httpStatus(), 404);
  EXPECT_EQ(e.reason(), "NotFound");
  EXPECT_EQ(e.code(), Code::kNotFound);
  EXPECT_TRUE(e.isNotFound());
  EXPECT_EQ(e.message(), R"(pods "x" not found)");
  Error plain = e;  // what BERTH_TRY passes up
  EXPECT_EQ(plain.code(), Code::kNotFound);
  EXPECT_EQ(plain.message(), R"(pods "x" not found)");
  EXPECT_EQ(e.target().namespace_, "default");
}

TEST(ApiError, MakesUpClientGosStatusForOtherBodies) {
  struct Case {
    int code;
    std::string verb;
    std::string body;
    std::string contentType;
    std::string_view reason;
    std::string message;
    Code canonical;
  };
  std::vector<Case> cases = {
      {404, "GET", "", "", reason::kNotFound,
       "the server could not find the requested resource (get pods x)", Code::kNotFound},
      {409, "POST", "", "", reason::kAlreadyExists, "the server reported a conflict (post pods x)",
       Code::kAlreadyExists},
      {409, "PUT", "", "", reason::kConflict, "the server reported a conflict (put pods x)",
       Code::kAborted},
      {500, "GET", "  boom \n", "text/plain; charset=utf-8", reason::kInternalError,
       R"(an error on the server ("boom") has prevented the request from succeeding (get pods x))",
       Code::kInternal},
      {502, "GET", "<html>", "application/octet-stream", reason::kInternalError,
       R"(an error on the server ("unknown") has prevented the request from succeeding (get )"
       R"(pods x))",
       Code::kInternal},
      {429, "GET", "", "", reason::kTooManyRequests,
       "the server has received too many requests and has asked us to try again later (get "
       "pods x)",
       Code::kResourceExhausted},
      {403, "GET", "denied", "text/plain", reason::kForbidden, "denied (get pods x)",
       Code::kPermissionDenied},
      {418, "GET", "", "", reason::kUnknown,
       "the server responded with the status code 418 but did not return more information (get "
       "pods x)",
       Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto e = ApiError::fromResponse(c.code, c.body, c.contentType, {c.verb, kPods, "ns", "x"}, 4);
    EXPECT_EQ(e.reason(), c.reason) << c.code;
    EXPECT_EQ(e.message(), c.message);
    EXPECT_EQ(e.code(), c.canonical) << c.code;
    EXPECT_EQ(e.retryAfterSeconds(), 4);
    ASSERT_EQ(e.status().details.causes.size(), 1u);
    EXPECT_EQ(e.status().details.causes[0].reason, "UnexpectedServerResponse");
  }
}

TEST(ApiError, TransportErrorsNameTheRequest) {
  auto e = ApiError::transport(Error(Code::kUnavailable, "connection refused"),
                               {"GET", kPods, "default", "x"});
  EXPECT_EQ(e.httpStatus(), 0);
  EXPECT_EQ(e.toError().message(), "get pods default/x: connection refused");
  EXPECT_EQ(e.toError().code(), Code::kUnavailable);
}

TEST(ApiError, ExpiredFromAWatchErrorEvent) {
  auto e = ApiError::fromStatus(tooOldResourceVersionStatus(1, 2));
  EXPECT_TRUE(e.isResourceExpired());
  EXPECT_EQ(e.code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace berth::kubeapi
