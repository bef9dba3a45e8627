#include "kubeapi/field_selector.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

TEST(FieldSelector, ParsesAndPrints) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"", ""},
           {"a=b", "a=b"},
           {"b=1,a==2", "a=2,b=1"},
           {"spec.nodeName!=", "spec.nodeName!="},
           {R"(a=b\,c)", R"(a=b\,c)"},
           {R"(a=b\=c)", R"(a=b\=c)"},
           {R"(a=b\\c)", R"(a=b\\c)"},
           {"a=b,,c=d", "a=b,c=d"},
       }) {
    auto s = FieldSelector::parse(c.in);
    ASSERT_TRUE(s) << c.in << ": " << s.error().message();
    EXPECT_EQ(s->str(), c.out) << c.in;
  }
  auto s = FieldSelector::parse(R"(metadata.name=x\,y)");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->terms().size(), 1u);
  EXPECT_EQ(s->terms()[0], (FieldTerm{"metadata.name", "x,y", false}));
  EXPECT_EQ(s->requiresExactMatch("metadata.name"), "x,y");
}

TEST(FieldSelector, ErrorsAreUpstreams) {
  struct Case {
    const char* in;
    const char* error;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"abc", "invalid selector: 'abc'; can't understand 'abc'"},
           {"a=b,xyz", "invalid selector: 'a=b,xyz'; can't understand 'xyz'"},
           {"a=b=c", "invalid field selector: unescaped character in value: 61"},
           {R"(a=b\x)", R"(invalid field selector: invalid escape sequence: \x)"},
           {R"(a=b\)", R"(invalid field selector: invalid escape sequence: \)"},
       }) {
    auto s = FieldSelector::parse(c.in);
    ASSERT_FALSE(s) << c.in;
    EXPECT_EQ(s.error().message(), c.error) << c.in;
  }
}

TEST(FieldSelector, Matches) {
  FieldSet pod = {{"metadata.name", "p"}, {"spec.nodeName", "n1"}, {"status.phase", "Running"}};
  struct Case {
    const char* selector;
    bool match;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"", true},
           {"spec.nodeName=n1", true},
           {"spec.nodeName==n2", false},
           {"spec.nodeName!=n2", true},
           {"spec.nodeName!=", true},
           {"spec.missing=", true},
           {"spec.missing!=", false},
           {"spec.nodeName=n1,status.phase!=Running", false},
       }) {
    auto s = FieldSelector::parse(c.selector);
    ASSERT_TRUE(s) << c.selector;
    EXPECT_EQ(s->matches(pod), c.match) << c.selector;
  }
  EXPECT_EQ(escapeFieldValue(R"(a,b=c\d)"), R"(a\,b\=c\\d)");
  EXPECT_EQ(FieldSelector::oneTermEqual("spec.nodeName", "a,b").str(), R"(spec.nodeName=a\,b)");
}

}  // namespace
}  // namespace berth::kubeapi
