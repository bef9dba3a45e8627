#include "controlplane/auth/token_file.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::controlplane::auth {
namespace {

using Records = std::vector<std::vector<std::string>>;

TEST(Csv, ReadsAsGoEncodingCsv) {
  struct Case {
    const char* name;
    const char* text;
    Records records;
  };
  const std::vector<Case> cases = {
      {"plain", "a,b,c\n", {{"a", "b", "c"}}},
      {"no final newline", "a,b,c", {{"a", "b", "c"}}},
      {"crlf", "a,b\r\nc,d\r\n", {{"a", "b"}, {"c", "d"}}},
      {"blank lines skipped", "\n\na,b\n\n\nc\n", {{"a", "b"}, {"c"}}},
      {"empty fields", "a,,\n", {{"a", "", ""}}},
      {"quoted with comma", "t,u,1,\"g1,g2\"\n", {{"t", "u", "1", "g1,g2"}}},
      {"escaped quote", "\"a\"\"b\",c\n", {{"a\"b", "c"}}},
      {"quoted over lines", "\"a\nb\",c\n", {{"a\nb", "c"}}},
      {"spaces kept", " a , b \n", {{" a ", " b "}}},
      {"ragged records", "a\nb,c,d,e\n", {{"a"}, {"b", "c", "d", "e"}}},
  };
  for (const auto& c : cases) {
    auto records = parseCsv(c.text);
    ASSERT_TRUE(records) << c.name << ": " << records.error().message();
    EXPECT_EQ(*records, c.records) << c.name;
  }
}

TEST(Csv, ErrorsAreGoParseErrors) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"ab\"c,d\n", "parse error on line 1, column 3: bare \" in non-quoted-field"},
           {"x,y\nab,c\"d\n", "parse error on line 2, column 5: bare \" in non-quoted-field"},
           {"\"ab\"c,d\n",
            "parse error on line 1, column 4: extraneous or missing \" in quoted-field"},
           {"a,\"b\nc",
            "record on line 1; parse error on line 2, column 2: extraneous or missing \" "
            "in quoted-field"},
       }) {
    auto records = parseCsv(c.text);
    ASSERT_FALSE(records) << c.text;
    EXPECT_EQ(records.error().message(), c.error);
  }
}

TEST(StaticTokenAuthenticator, AuthenticatesTheFileUsers) {
  testing::TempDir dir;
  const auto path = dir.path() / "tokens.csv";
  ASSERT_TRUE(writeFile(path,
                        "admin-token,admin,uid-1,\"system:masters,ops\"\n"
                        "node-token,system:node:n1,uid-2,system:nodes\n"
                        "plain-token,jane,uid-3\n"
                        ",empty,uid-4\n"
                        "plain-token,jane-again,uid-5\n"));
  auto tokens = StaticTokenAuthenticator::fromFile(path);
  ASSERT_TRUE(tokens) << tokens.error().message();
  EXPECT_EQ((*tokens)->size(), 3u);  // the empty token skipped, the duplicate replaced

  auto admin = (*tokens)->authenticateToken("admin-token", {});
  ASSERT_TRUE(admin && *admin);
  EXPECT_EQ((*admin)->user.name, "admin");
  EXPECT_EQ((*admin)->user.uid, "uid-1");
  EXPECT_EQ((*admin)->user.groups, (std::vector<std::string>{"system:masters", "ops"}));
  auto plain = (*tokens)->authenticateToken("plain-token", {});
  ASSERT_TRUE(plain && *plain);
  EXPECT_EQ((*plain)->user.name, "jane-again");
  EXPECT_TRUE((*plain)->user.groups.empty());
  auto unknown = (*tokens)->authenticateToken("nope", {});
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  EXPECT_FALSE(*(*tokens)->authenticateToken("", {}));
}

TEST(StaticTokenAuthenticator, BadFilesNameTheFile) {
  auto short_ = StaticTokenAuthenticator::fromCsv("t,u,1\nt2,u2\n", "/etc/tokens.csv");
  ASSERT_FALSE(short_);
  EXPECT_EQ(short_.error().message(),
            "token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user "
            "uid), found 2");
  auto quote = StaticTokenAuthenticator::fromCsv("t,u\"x,1\n", "/etc/tokens.csv");
  ASSERT_FALSE(quote);
  EXPECT_EQ(quote.error().message(),
            "token file '/etc/tokens.csv': parse error on line 1, column 4: bare \" in "
            "non-quoted-field");
  auto missing = StaticTokenAuthenticator::fromFile("/nonexistent/tokens.csv");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/tokens.csv"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane::auth
