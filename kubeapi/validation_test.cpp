#include "kubeapi/validation.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

using Msgs = std::vector<std::string>;

const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

TEST(Validation, Names) {
  EXPECT_EQ(isDNS1123Subdomain("example.com"), Msgs{});
  EXPECT_EQ(isDNS1123Subdomain("A"), Msgs{kSubdomainMsg});
  EXPECT_EQ(isDNS1123Subdomain("a..b"), Msgs{kSubdomainMsg});
  EXPECT_EQ(isDNS1123Subdomain(std::string(254, 'a')),
            (Msgs{"must be no more than 253 characters"}));
  EXPECT_EQ(isDNS1123Label("my-name"), Msgs{});
  EXPECT_EQ(isDNS1123Label("a.b"), Msgs{"must not contain dots"});
  EXPECT_EQ(isDNS1123Label("-a"), Msgs{kLabelMsg});
  EXPECT_EQ(isDNS1123Label(std::string(64, 'a')), Msgs{"must be no more than 63 characters"});
  EXPECT_EQ(isDNS1035Label("1abc").size(), 1u);
  EXPECT_EQ(isDNS1035Label("abc-1"), Msgs{});
  EXPECT_EQ(nameIsDNSSubdomain("web-", true), Msgs{});
  EXPECT_EQ(nameIsDNSSubdomain("web-", false), Msgs{kSubdomainMsg});
  EXPECT_EQ(isValidPathSegmentName(".."), Msgs{"may not be '..'"});
  EXPECT_EQ(isValidPathSegmentName("a/b%c"), (Msgs{"may not contain '/'", "may not contain '%'"}));
}

TEST(Validation, QualifiedNamesAndLabelValues) {
  EXPECT_EQ(isQualifiedName("example.com/Name_1"), Msgs{});
  EXPECT_EQ(isQualifiedName("/x"), Msgs{"prefix part must be non-empty"});
  EXPECT_EQ(isQualifiedName("Example.com/x"), Msgs{"prefix part " + kSubdomainMsg});
  EXPECT_EQ(isQualifiedName("x/"),
            (Msgs{"name part must be non-empty",
                  "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                  "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                  "or '123-abc', regex used for validation is "
                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}));
  EXPECT_EQ(isQualifiedName("a/b/c"),
            Msgs{"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                 "'my.name',  or '123-abc', regex used for validation is "
                 "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                 "prefix and '/' (e.g. 'example.com/MyName')"});
  EXPECT_EQ(isQualifiedName(std::string(64, 'a')).front(),
            "name part must be no more than 63 characters");
  EXPECT_EQ(isValidLabelValue(""), Msgs{});
  EXPECT_EQ(isValidLabelValue("v1.2_x"), Msgs{});
  EXPECT_EQ(isValidLabelValue(std::string(64, 'a')), Msgs{"must be no more than 63 characters"});
}

TEST(Validation, ObjectMeta) {
  FieldPath meta("metadata");
  struct Case {
    const char* metadata;
    bool namespaced;
    std::vector<std::string> errors;
  };
  std::vector<Case> cases = {
      {R"({"name":"x","namespace":"default"})", true, {}},
      {R"({"namespace":"default"})",
       true,
       {"metadata.name: Required value: name or generateName is required"}},
      {R"({"name":"x"})", true, {"metadata.namespace: Required value"}},
      {R"({"name":"x","namespace":"default"})",
       false,
       {"metadata.namespace: Forbidden: not allowed on this type"}},
      {R"({"name":"X","namespace":"default"})",
       true,
       {"metadata.name: Invalid value: \"X\": " + kSubdomainMsg}},
      {R"({"name":"x","generateName":"web-","namespace":"default"})", true, {}},
      {R"({"name":"x","namespace":"default","generation":-1})",
       true,
       {"metadata.generation: Invalid value: -1: must be greater than or equal to 0"}},
      {R"({"name":"x","namespace":"default","labels":{"a":"b c"}})",
       true,
       {"metadata.labels: Invalid value: \"b c\": a valid label must be an empty string or "
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}},
      {R"({"name":"x","namespace":"default","annotations":{"Example.COM/Key":"v"}})", true, {}},
      {R"({"name":"x","namespace":"default","finalizers":["a/b/c"]})",
       true,
       {"metadata.finalizers: Invalid value: \"a/b/c\": a qualified name must consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
        "'/' (e.g. 'example.com/MyName')"}},
      {R"({"name":"x","namespace":"default","ownerReferences":[{"apiVersion":"apps/v1",)"
       R"("kind":"ReplicaSet","name":"rs"}]})",
       true,
       {"metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"}},
  };
  for (const auto& c : cases) {
    auto errs = validateObjectMeta(nlohmann::json::parse(c.metadata), c.namespaced,
                                   nameIsDNSSubdomain, meta);
    std::vector<std::string> got;
    for (const auto& e : errs)
      got.push_back(e.str());
    EXPECT_EQ(got, c.errors) << c.metadata;
  }
}

TEST(Validation, AnnotationSize) {
  nlohmann::json annotations = {{"a", std::string(256 * 1024, 'x')}};
  auto errs = validateAnnotations(annotations, FieldPath("metadata").child("annotations"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].str(), "metadata.annotations: Too long: may not be more than 262144 bytes");
  annotations = {{"a", std::string(256 * 1024 - 1, 'x')}};
  EXPECT_TRUE(validateAnnotations(annotations, FieldPath("m")).empty());
}

}  // namespace
}  // namespace berth::kubeapi
