#include "common/yaml_reader.h"

#include <gtest/gtest.h>

namespace berth::yaml {
namespace {

TEST(YamlReader, ReadsKnownKeysAndRejectsUnknownOnes) {
  auto doc = parse("a: x\nb: 3\nc: [p, q]\nd: true\ne:\n  f: y\nzz: 1\n");
  ASSERT_TRUE(doc) << doc.error().message();
  auto m = MapReader::open(*doc, "");
  ASSERT_TRUE(m);
  std::string a, f;
  int64_t b = 0;
  std::vector<std::string> c;
  bool d = false;
  ASSERT_TRUE(m->readString("a", a));
  ASSERT_TRUE(m->readInt("b", b, 0, 10));
  ASSERT_TRUE(m->readStringList("c", c));
  ASSERT_TRUE(m->readBool("d", d));
  auto e = m->readMap("e");
  ASSERT_TRUE(e && e->has_value());
  ASSERT_TRUE((*e)->readString("f", f));
  EXPECT_TRUE((*e)->finish());
  EXPECT_EQ(a, "x");
  EXPECT_EQ(b, 3);
  EXPECT_EQ(c, (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(d);
  EXPECT_EQ(f, "y");
  auto done = m->finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().message(), "zz: unknown key (line 7)");
}

TEST(YamlReader, AbsentAndNullKeepTheDefault) {
  auto doc = parse("a:\n");
  ASSERT_TRUE(doc);
  auto m = MapReader::open(*doc, "top");
  ASSERT_TRUE(m);
  std::string a = "default", b = "other";
  ASSERT_TRUE(m->readString("a", a));
  ASSERT_TRUE(m->readString("b", b));
  EXPECT_EQ(a, "default");
  EXPECT_EQ(b, "other");
  EXPECT_TRUE(m->finish());
}

TEST(YamlReader, ErrorsNameTheKeyPath) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"n: 11\n", "m.n: must be an integer from 0 to 10 (line 1)"},
      {"n: 1x\n", "m.n: must be an integer from 0 to 10 (line 1)"},
      {"s: [1]\n", "m.s: must be a string, not a list (line 1)"},
      {"l: x\n", "m.l: must be a list of strings, not a scalar (line 1)"},
      {"l: [a, {b: c}]\n", "m.l[1]: must be a string, not a mapping (line 1)"},
      {"t: yes\n", "m.t: must be true or false (line 1)"},
      {"sub: 3\n", "m.sub: must be a mapping, not a scalar (line 1)"},
  };
  for (const auto& c : cases) {
    auto doc = parse(c.yaml);
    ASSERT_TRUE(doc) << c.yaml;
    auto m = MapReader::open(*doc, "m");
    ASSERT_TRUE(m);
    int64_t n = 0;
    std::string s;
    std::vector<std::string> l;
    bool t = false;
    Status st = m->readInt("n", n, 0, 10);
    if (st) st = m->readString("s", s);
    if (st) st = m->readStringList("l", l);
    if (st) st = m->readBool("t", t);
    if (st) {
      auto sub = m->readMap("sub");
      if (!sub) st = std::unexpected(sub.error());
    }
    ASSERT_FALSE(st) << c.yaml;
    EXPECT_EQ(st.error().message(), c.error) << c.yaml;
    EXPECT_EQ(st.error().code(), Code::kInvalidArgument);
  }
}

TEST(YamlReader, DuplicateKeysAndSyntaxErrors) {
  auto doc = parse("a: 1\nb: 2\na: 3\n");
  ASSERT_TRUE(doc);
  auto m = MapReader::open(*doc, "");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message(), "a: duplicate key (line 3)");

  auto bad = parse("a: [1, 2\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("invalid YAML at line"), std::string::npos);

  auto list = parse("- a\n");
  ASSERT_TRUE(list);
  auto notMap = MapReader::open(*list, "");
  ASSERT_FALSE(notMap);
  EXPECT_EQ(notMap.error().message(), "document: must be a mapping, not a list (line 1)");
}

}  // namespace
}  // namespace berth::yaml
