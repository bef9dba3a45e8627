#include "shim/apparmor_default.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::cri {
namespace {

namespace fs = std::filesystem;

class AppArmorDefault : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(writeFile(dir_ / "profiles", "docker-default (enforce)\n"));
  }

  // A stand-in apparmor_parser: records its arguments and stdin, then exits with `status`.
  fs::path fakeParser(int status, const std::string& stderrText = "") {
    fs::path p = dir_ / "apparmor_parser";
    EXPECT_TRUE(writeFile(p, fmt::format("#!/bin/sh\necho \"$@\" > {0}/args\ncat > {0}/stdin\n"
                                         "printf '%s' '{1}' >&2\nexit {2}\n",
                                         dir_.string(), stderrText, status)));
    ::chmod(p.c_str(), 0755);
    return p;
  }

  berth::testing::TempDir tmp_{"berth-aa"};
  fs::path dir_ = tmp_.path();
};

TEST(AppArmorDefaultProfile, TextNamesTheProfileAndItsPeers) {
  std::string text = defaultAppArmorProfile("berth-default");
  EXPECT_NE(text.find("profile berth-default flags=(attach_disconnected,mediate_deleted) {"),
            std::string::npos);
  EXPECT_NE(text.find("signal (send,receive) peer=berth-default,"), std::string::npos);
  EXPECT_NE(text.find("deny mount,"), std::string::npos);
  EXPECT_NE(text.find("@{PROC}/{sysrq-trigger,kcore} rwklx"), std::string::npos);
  EXPECT_EQ(text.find("{0}"), std::string::npos);
}

TEST_F(AppArmorDefault, AProfileTheKernelHasIsNotLoadedAgain) {
  ASSERT_TRUE(writeFile(dir_ / "profiles", "berth-default (enforce)\n"));
  AppArmorDefaultProfile p("berth-default", dir_ / "profiles", dir_ / "no-parser");
  auto st = p.ensureLoaded();
  EXPECT_TRUE(st) << st.error().message();
}

TEST_F(AppArmorDefault, LoadsOnceWithTheParser) {
  AppArmorDefaultProfile p("berth-default", dir_ / "profiles", fakeParser(0));
  auto st = p.ensureLoaded();
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(readFile(dir_ / "args").value_or(""), "--replace --skip-cache\n");
  EXPECT_EQ(readFile(dir_ / "stdin").value_or(""), defaultAppArmorProfile("berth-default"));
  ASSERT_TRUE(removeAll(dir_ / "args"));
  ASSERT_TRUE(p.ensureLoaded());
  EXPECT_FALSE(fs::exists(dir_ / "args")) << "loaded twice";
}

TEST_F(AppArmorDefault, AMissingParserNamesIt) {
  AppArmorDefaultProfile p("berth-default", dir_ / "profiles", dir_ / "no-parser");
  auto st = p.ensureLoaded();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(st.error().message().find((dir_ / "no-parser").string() + " is missing"),
            std::string::npos)
      << st.error().message();
}

TEST_F(AppArmorDefault, AParserFailureCarriesItsWordsAndIsRetried) {
  AppArmorDefaultProfile p("berth-default", dir_ / "profiles",
                           fakeParser(1, "syntax error in profile"));
  auto st = p.ensureLoaded();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(st.error().message().find("syntax error in profile"), std::string::npos)
      << st.error().message();
  fakeParser(0);
  EXPECT_TRUE(p.ensureLoaded());
}

TEST_F(AppArmorDefault, UsedOnlyWithKernelParserNoContainerAndNotDisabled) {
  fs::path parser = fakeParser(0);
  ::unsetenv("container");
  EXPECT_TRUE(appArmorUsable(true, false, parser));
  EXPECT_FALSE(appArmorUsable(false, false, parser));
  EXPECT_FALSE(appArmorUsable(true, true, parser));
  EXPECT_FALSE(appArmorUsable(true, false, dir_ / "no-parser"));
  ::setenv("container", "lxc", 1);
  EXPECT_FALSE(appArmorUsable(true, false, parser));
  ::unsetenv("container");
}

}  // namespace
}  // namespace berth::cri
