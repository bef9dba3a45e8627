#include "controlplane/schema/field_validation.h"

#include <gtest/gtest.h>

#include "controlplane/schema/go_values.h"
#include "controlplane/schema/registry.h"
#include "controlplane/schema/schema_test_util.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

struct StrictCase {
  std::string_view name;
  std::string_view type;
  std::string_view body;
  std::vector<std::string> strict;  // in document order
};

TEST(FieldValidationTest, UnknownAndDuplicateFieldsWithTheirPaths) {
  const StrictCase cases[] = {
      {"valid",
       kPodTypeName,
       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},
          "spec":{"containers":[{"name":"c","image":"busybox"}]}})",
       {}},
      {"top level",
       kPodTypeName,
       R"({"foo":1,"metadata":{"name":"a"}})",
       {R"(unknown field "foo")"}},
      {"in spec", kPodTypeName, R"({"spec":{"foo":{"bar":1}}})", {R"(unknown field "spec.foo")"}},
      {"in a list item",
       kPodTypeName,
       R"({"spec":{"containers":[{"name":"a"},{"name":"b","imagee":"x"}]}})",
       {R"(unknown field "spec.containers[1].imagee")"}},
      {"duplicate field",
       kPodTypeName,
       R"({"metadata":{"name":"a","name":"b"}})",
       {R"(duplicate field "metadata.name")"}},
      {"duplicate map key",
       kPodTypeName,
       R"({"metadata":{"labels":{"a":"1","a":"2"}}})",
       {R"(duplicate field "metadata.labels.a")"}},
      {"document order",
       kPodTypeName,
       R"({"zzz":1,"spec":{"yyy":2},"aaa":3})",
       {R"(unknown field "zzz")", R"(unknown field "spec.yyy")", R"(unknown field "aaa")"}},
      {"deduplicated", kPodTypeName, R"({"x":1,"x":2})", {R"(unknown field "x")"}},
      {"deployment template",
       "io.k8s.api.apps.v1.Deployment",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c","foo":1}]}}}})",
       {R"(unknown field "spec.template.spec.containers[0].foo")"}},
      {"free-form content is not checked",
       "io.k8s.api.apps.v1.ControllerRevision",
       R"({"data":{"anything":{"goes":[1,"x"]}},"revision":1})",
       {}},
      {"quoted path",
       kPodTypeName,
       R"({"metadata":{"a\"b":1}})",
       {R"(unknown field "metadata.a\"b")"}},
  };
  for (const StrictCase& c : cases) {
    auto r = decodeFields(c.body, builtinType(c.type));
    ASSERT_TRUE(r) << c.name << ": " << r.error().message();
    EXPECT_EQ(r->strictErrors, c.strict) << c.name;
  }
}

TEST(FieldValidationTest, UnknownFieldsAreDroppedAndQuantitiesKeptAsText) {
  auto r = decodeFields(R"({"metadata":{"name":"a","bogus":1},"spec":{"containers":[
      {"name":"c","resources":{"limits":{"cpu":2,"memory":"1Gi"}},"x":1}],"nodeName":null}})",
                        builtinType(kPodTypeName));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->object, json::parse(R"({"metadata":{"name":"a"},"spec":{"containers":[
      {"name":"c","resources":{"limits":{"cpu":"2","memory":"1Gi"}}}]}})"));
}

TEST(FieldValidationTest, MistypedValuesFailWithTheGoDecoderMessage) {
  struct Case {
    std::string_view type;
    std::string_view body;
    std::string_view message;
  };
  const Case cases[] = {
      {kPodTypeName, R"({"metadata":{"name":5}})",
       "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type "
       "string"},
      {kPodTypeName, R"({"spec":{"containers":"x"}})",
       "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type "
       "[]v1.Container"},
      {kPodTypeName, R"({"spec":{"containers":["x"]}})",
       "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type "
       "v1.Container"},
      {kPodTypeName, R"({"spec":{"containers":[{"ports":[{"containerPort":"80"}]}]}})",
       "json: cannot unmarshal string into Go struct field "
       "ContainerPort.spec.containers.ports.containerPort of type int32"},
      {kPodTypeName, R"({"spec":{"containers":[{"ports":[{"containerPort":1.5}]}]}})",
       "json: cannot unmarshal number 1.5 into Go struct field "
       "ContainerPort.spec.containers.ports.containerPort of type int32"},
      {kPodTypeName, R"({"spec":{"containers":[{"ports":[{"containerPort":3000000000}]}]}})",
       "json: cannot unmarshal number 3000000000 into Go struct field "
       "ContainerPort.spec.containers.ports.containerPort of type int32"},
      {kPodTypeName, R"({"spec":{"restartPolicy":1}})",
       "json: cannot unmarshal number into Go struct field PodSpec.spec.restartPolicy of type "
       "v1.RestartPolicy"},
      {kPodTypeName, R"({"spec":{"hostNetwork":"yes"}})",
       "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool"},
      {kPodTypeName, R"({"metadata":{"labels":{"a":1}}})",
       "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type "
       "string"},
      {kPodTypeName, R"({"spec":"x"})",
       "json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec"},
      {kPodTypeName, R"([])", "json: cannot unmarshal array into Go value of type v1.Pod"},
      {kPodTypeName, R"({"spec":{"containers":[{"resources":{"limits":{"cpu":"abc"}}}]}})",
       "quantities must match the regular expression "
       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
      {kPodTypeName, R"({"metadata":{"creationTimestamp":"yesterday"}})",
       R"(parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006")"},
      {kPodTypeName, R"({"metadata":{"creationTimestamp":7}})",
       "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp "
       "of type string"},
      {"io.k8s.api.core.v1.Secret", R"({"data":{"a":"!!!!"}})",
       "illegal base64 data at input byte 0"},
      {"io.k8s.api.core.v1.Service", R"({"spec":{"ports":[{"port":80,"targetPort":true}]}})",
       "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type "
       "int32"},
      {"io.k8s.api.core.v1.Service", R"({"spec":{"ports":[{"port":80,"targetPort":8.5}]}})",
       "json: cannot unmarshal number 8.5 into Go struct field ServicePort.spec.ports.targetPort "
       "of type int32"},
      {"io.k8s.api.core.v1.PersistentVolumeClaim", R"({"spec":{"accessModes":[1]}})",
       "json: cannot unmarshal number into Go struct field "
       "PersistentVolumeClaimSpec.spec.accessModes "
       "of type v1.PersistentVolumeAccessMode"},
  };
  for (const Case& c : cases) {
    auto r = decodeFields(c.body, builtinType(c.type));
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().message(), c.message) << c.body;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(FieldValidationTest, WellFormedScalarsPass) {
  auto r = decodeFields(R"({"metadata":{"creationTimestamp":"2024-02-29T23:59:59+01:00"},
      "spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":"http"}},
      "resources":{"requests":{"cpu":"100m","memory":"1.5Gi","x":"1e3"}}}]}})",
                        builtinType(kPodTypeName));
  EXPECT_TRUE(r) << r.error().message();
  auto secret =
      decodeFields(R"({"data":{"a":"aGVsbG8=","b":""}})", builtinType("io.k8s.api.core.v1.Secret"));
  EXPECT_TRUE(secret) << secret.error().message();
  auto lease = decodeFields(R"({"spec":{"renewTime":"2024-01-01T00:00:00.123456Z"}})",
                            builtinType("io.k8s.api.coordination.v1.Lease"));
  EXPECT_TRUE(lease) << lease.error().message();
  auto badLease = decodeFields(R"({"spec":{"renewTime":"2024-01-01T00:00:00Z"}})",
                               builtinType("io.k8s.api.coordination.v1.Lease"));
  ASSERT_FALSE(badLease);
  EXPECT_EQ(badLease.error().message(),
            R"(parsing time "2024-01-01T00:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": )"
            R"(cannot parse "Z" as ".000000")");
}

TEST(FieldValidationTest, MalformedJsonIsAnError) {
  auto r = decodeFields(R"({"metadata":)", builtinType(kPodTypeName));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("parse error"), std::string::npos) << r.error().message();
}

TEST(FieldValidationTest, ModesDecideWhatStrictErrorsBecome) {
  std::string_view body = R"({"spec":{"foo":1},"metadata":{"name":"a","name":"b"}})";
  auto strict = decodeBody(body, builtinType(kPodTypeName), FieldValidation::kStrict);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().message(),
            R"(strict decoding error: unknown field "spec.foo", duplicate field "metadata.name")");
  auto warn = decodeBody(body, builtinType(kPodTypeName), FieldValidation::kWarn);
  ASSERT_TRUE(warn);
  EXPECT_EQ(warn->warnings, (std::vector<std::string>{R"(unknown field "spec.foo")",
                                                      R"(duplicate field "metadata.name")"}));
  EXPECT_EQ(warn->object["metadata"]["name"], "b");  // the last duplicate wins
  auto ignore = decodeBody(body, builtinType(kPodTypeName), FieldValidation::kIgnore);
  ASSERT_TRUE(ignore);
  EXPECT_TRUE(ignore->warnings.empty());
  EXPECT_FALSE(ignore->object["spec"].contains("foo"));
  // A type error fails in every mode.
  EXPECT_FALSE(decodeBody(R"({"spec":1})", builtinType(kPodTypeName), FieldValidation::kIgnore));
}

TEST(FieldValidationTest, CheckFieldsSortsAsTheUnstructuredConverter) {
  auto r =
      checkFields(json::parse(R"({"zzz":1,"spec":{"yyy":2},"aaa":3})"), builtinType(kPodTypeName));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->strictErrors,
            (std::vector<std::string>{R"(unknown field "aaa")", R"(unknown field "spec.yyy")",
                                      R"(unknown field "zzz")"}));
}

TEST(FieldValidationTest, ParsesTheQueryParameter) {
  EXPECT_EQ(*parseFieldValidation(""), FieldValidation::kWarn);
  EXPECT_EQ(*parseFieldValidation("Warn"), FieldValidation::kWarn);
  EXPECT_EQ(*parseFieldValidation("Strict"), FieldValidation::kStrict);
  EXPECT_EQ(*parseFieldValidation("Ignore"), FieldValidation::kIgnore);
  auto bad = parseFieldValidation("strict");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            R"(fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", )"
            R"("Strict", "Warn")");
}

TEST(GoValuesTest, Base64OffsetsAsGo) {
  struct Case {
    std::string_view in;
    std::optional<std::size_t> offset;
  };
  const Case cases[] = {
      {"", std::nullopt},
      {"aGk=", std::nullopt},
      {"aGVsbG8=", std::nullopt},
      {"aGk", 0},
      {"a", 0},
      {"aG!=", 2},
      {"aGk=x", 4},
      {"a===", 1},
      {"aG=x", 2},
      {"aG\nk=", std::nullopt},
      {"aG=", 3},
  };
  for (const Case& c : cases)
    EXPECT_EQ(base64ErrorOffset(c.in), c.offset) << c.in;
}

TEST(GoValuesTest, QuantitySyntaxAsParseQuantity) {
  for (std::string_view ok :
       {"0", "1", "100m", "1.5Gi", "-1", "+2k", "1e3", "12E6", ".5", "1.", "0.1n", "00", "5Ei"})
    EXPECT_FALSE(quantityError(ok)) << ok;
  EXPECT_EQ(quantityError("1Qi"),
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_EQ(quantityError(""), quantityError("1Qi"));
  EXPECT_EQ(quantityError("1Ki2"), "unable to parse quantity's suffix");
  EXPECT_EQ(quantityError("1e"), "unable to parse quantity's suffix");
  EXPECT_EQ(quantityError("."), "unable to parse numeric part of quantity");
}

TEST(GoValuesTest, TimeErrorsAsTimeParse) {
  EXPECT_FALSE(timeError("2024-01-01T00:00:00Z", false));
  EXPECT_FALSE(timeError("2024-01-01T00:00:00.5-07:00", false));
  EXPECT_EQ(*timeError("2024-02-30T00:00:00Z", false),
            R"(parsing time "2024-02-30T00:00:00Z": day out of range)");
  EXPECT_EQ(*timeError("2024-01-01 00:00:00Z", false),
            R"(parsing time "2024-01-01 00:00:00Z" as "2006-01-02T15:04:05Z07:00": )"
            R"(cannot parse " 00:00:00Z" as "T")");
  EXPECT_EQ(*timeError("", false),
            R"(parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006")");
  EXPECT_EQ(goQuote("a\"b\n"), R"("a\"b\n")");
}

}  // namespace
}  // namespace berth::controlplane::schema
