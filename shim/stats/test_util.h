#pragma once
// Shared by the stats unit tests: a temporary directory removed at the end, and file writing.

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::cri::stats::testing {

// One second in the nanoseconds cgroup counters and CRI timestamps use.
inline constexpr int64_t kSecond = 1'000'000'000;

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<berth::testing::TempDir>("berth-stats");
    ASSERT_FALSE(tmp_->path().empty());
    dir_ = tmp_->path();
  }
  void TearDown() override { tmp_.reset(); }

  // Writes `text` to dir_/rel, creating the parent directories.
  void put(const std::string& rel, const std::string& text) {
    auto path = dir_ / rel;
    ASSERT_TRUE(makeDirs(path.parent_path()));
    ASSERT_TRUE(writeFile(path, text));
  }

  std::unique_ptr<berth::testing::TempDir> tmp_;
  std::filesystem::path dir_;
};

}  // namespace berth::cri::stats::testing
