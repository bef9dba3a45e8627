#include "ocispec/json_reader.h"

#include <gtest/gtest.h>

namespace berth::ocispec {
namespace {

// Which member a name finds, Go's way (encoding/json, struct fields) and exactly.
TEST(FindMember, GoFoldsKeysAndPrefersTheExactSpelling) {
  struct Case {
    const char* doc;
    const char* name;
    const char* go;     // the value found with kGoFold, "" for none
    const char* exact;  // with kExact
  };
  const Case cases[] = {
      {R"({"hostPort": 1})", "hostPort", "1", "1"},
      {R"({"HostPort": 1})", "hostPort", "1", ""},
      {R"({"HOSTPORT": 1})", "hostPort", "1", ""},
      {R"({"hostport": 1})", "hostPort", "1", ""},
      {R"({"HostPort": 1, "hostPort": 2})", "hostPort", "2", "2"},
      {R"({"hostPorts": 1})", "hostPort", "", ""},
      {R"({"hostPor": 1})", "hostPort", "", ""},
      {R"({"host_port": 1})", "hostPort", "", ""},
      // Go folds KELVIN SIGN to k and LONG S to s; other non-ASCII letters never match ASCII.
      {"{\"\xE2\x84\xAA"
       "ey\": 1}",
       "key", "1", ""},
      {"{\"ho\xC5\xBFtPort\": 1}", "hostPort", "1", ""},
      {"{\"h\xC3\xB3stPort\": 1}", "hostPort", "", ""},
      // Null is absent, whoever spells it.
      {R"({"HostPort": null})", "hostPort", "", ""},
  };
  for (const auto& c : cases) {
    auto doc = Json::parse(c.doc);
    const Json* go = findMember(doc, c.name, KeyMatch::kGoFold);
    const Json* exact = findMember(doc, c.name, KeyMatch::kExact);
    EXPECT_EQ(go ? go->dump() : "", c.go) << c.doc;
    EXPECT_EQ(exact ? exact->dump() : "", c.exact) << c.doc;
  }
  EXPECT_EQ(findMember(Json::array(), "x", KeyMatch::kGoFold), nullptr);
}

// Nested readers keep the matching they were opened with; map keys stay as written.
TEST(FindMember, NestedReadersInheritTheMatching) {
  auto doc = Json::parse(R"({"RuntimeConfig": {"PortMappings": [{"HostPort": 8080}]},
                            "Labels": {"A": "1"}})");
  auto r = JsonReader::open(doc, "", KeyMatch::kGoFold);
  ASSERT_TRUE(r);
  struct Mapping {
    int hostPort = 0;
  };
  std::vector<Mapping> ports;
  Status st =
      r->object("runtimeConfig", ports, [](const JsonReader& rc, std::vector<Mapping>& out) {
        return rc.objects("portMappings", out, [](const JsonReader& m, Mapping& pm) {
          return m.required("hostPort", pm.hostPort);
        });
      });
  ASSERT_TRUE(st) << st.error().message();
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].hostPort, 8080);
  std::map<std::string, std::string> labels;
  ASSERT_TRUE(r->optional("labels", labels));
  EXPECT_EQ(labels.count("A"), 1u);

  auto strict = JsonReader::open(doc, "");
  ASSERT_TRUE(strict);
  EXPECT_FALSE(strict->has("runtimeConfig"));
}

}  // namespace
}  // namespace berth::ocispec
