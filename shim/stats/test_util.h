#pragma once
// Shared by the stats unit tests: a temporary directory removed at the end, and file writing.

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/file_util.h"

namespace berth::cri::stats::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-stats-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)removeAll(dir_); }

  // Writes `text` to dir_/rel, creating the parent directories.
  void put(const std::string& rel, const std::string& text) {
    auto path = dir_ / rel;
    ASSERT_TRUE(makeDirs(path.parent_path()));
    ASSERT_TRUE(writeFile(path, text));
  }

  std::filesystem::path dir_;
};

}  // namespace berth::cri::stats::testing
