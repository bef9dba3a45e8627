#include "kubeapi/label_selector.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

constexpr const char* kNameRegexMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

TEST(LabelSelector, ParsesAndPrintsCanonically) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"", ""},
           {"x=a", "x=a"},
           {"x==a", "x==a"},
           {"x!=a", "x!=a"},
           {"x in (b,a)", "x in (a,b)"},
           {"x notin (a)", "x notin (a)"},
           {"x in (a,a)", "x in (a)"},
           {"x", "x"},
           {"!x", "!x"},
           {"z=1,a=2", "a=2,z=1"},
           {"x>1", "x>1"},
           {"x<5", "x<5"},
           {"  x = a ,  y  ", "x=a,y"},
           {"x=", "x="},
           {"x in ()", "x in ()"},
           {"x in (,a)", "x in (,a)"},
           {"example.com/app=web", "example.com/app=web"},
           {"in=notin", "in=notin"},
       }) {
    auto s = LabelSelector::parse(c.in);
    ASSERT_TRUE(s) << c.in << ": " << s.error().message();
    EXPECT_EQ(s->str(), c.out) << c.in;
  }
}

TEST(LabelSelector, ErrorsAreUpstreams) {
  struct Case {
    const char* in;
    std::string error;
  };
  std::vector<Case> cases = {
      {"x=a b", "found 'b', expected: ',' or 'end of string'"},
      {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
      {"x>a",
       "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
       "the value must be an integer"},
      {"a@b=c",
       std::string("unable to parse requirement: <nil>: Invalid value: \"a@b\": ") + kNameRegexMsg},
      {"x=a@",
       "unable to parse requirement: values[0][x]: Invalid value: \"a@\": a valid label must be "
       "an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
       "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
       "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {",x", "found ',', expected: !, identifier, or 'end of string'"},
      {"x,", "found '', expected: identifier after ','"},
      {"x=(a)", "unable to parse requirement: found '(', expected: identifier"},
      {"x in a", "unable to parse requirement: found 'a' expected: '('"},
      {"!x=a", "found '=', expected: ',' or 'end of string'"},
  };
  for (const auto& c : cases) {
    auto s = LabelSelector::parse(c.in);
    ASSERT_FALSE(s) << c.in;
    EXPECT_EQ(s.error().message(), c.error) << c.in;
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  }
}

TEST(LabelSelector, Matches) {
  LabelMap labels = {{"app", "web"}, {"tier", "front"}, {"version", "3"}};
  struct Case {
    const char* selector;
    bool match;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"", true},
           {"app=web", true},
           {"app==web", true},
           {"app=api", false},
           {"app!=api", true},
           {"missing!=x", true},
           {"app in (api,web)", true},
           {"app notin (api,web)", false},
           {"missing notin (a)", true},
           {"missing in (a)", false},
           {"app", true},
           {"!app", false},
           {"!missing", true},
           {"version>2", true},
           {"version<3", false},
           {"app>1", false},
           {"app=web,tier=back", false},
       }) {
    auto s = LabelSelector::parse(c.selector);
    ASSERT_TRUE(s) << c.selector;
    EXPECT_EQ(s->matches(labels), c.match) << c.selector;
    // The same over the object's JSON labels.
    nlohmann::json j = labels;
    EXPECT_EQ(s->matches(j), c.match) << c.selector;
  }
  EXPECT_FALSE(LabelSelector::nothing().matches(labels));
  EXPECT_TRUE(LabelSelector::everything().matches(nlohmann::json()));
}

TEST(LabelSelector, FromLabelSelectorObject) {
  auto s = LabelSelector::fromLabelSelector(nlohmann::json::parse(
      R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In",)"
      R"("values":["b","a"]},{"key":"canary","operator":"DoesNotExist"}]})"));
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->str(), "app=web,!canary,tier in (a,b)");
  EXPECT_TRUE(s->matches(LabelMap{{"app", "web"}, {"tier", "a"}}));
  EXPECT_FALSE(s->matches(LabelMap{{"app", "web"}, {"tier", "a"}, {"canary", "1"}}));
  EXPECT_EQ(s->requiresExactMatch("app"), "web");
  EXPECT_EQ(s->requiresExactMatch("tier"), std::nullopt);

  auto nothing = LabelSelector::fromLabelSelector(nullptr);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->matchesNothing());
  auto all = LabelSelector::fromLabelSelector(nlohmann::json::object());
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());

  auto bad = LabelSelector::fromLabelSelector(
      nlohmann::json::parse(R"({"matchExpressions":[{"key":"a","operator":"Foo"}]})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "\"Foo\" is not a valid label selector operator");
  auto empty = LabelSelector::fromLabelSelector(
      nlohmann::json::parse(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})"));
  ASSERT_FALSE(empty);
  EXPECT_EQ(
      empty.error().message(),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
      "empty");
}

TEST(LabelSelector, FromSetAndAdd) {
  auto s = LabelSelector::fromSet({{"b", "2"}, {"a", "1"}});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->str(), "a=1,b=2");
  auto r = LabelRequirement::create("aa", SelectorOperator::kExists, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(s->add(*r).str(), "a=1,aa,b=2");
  EXPECT_FALSE(LabelRequirement::create("k", SelectorOperator::kEquals, {"a", "b"}));
}

}  // namespace
}  // namespace berth::kubeapi
