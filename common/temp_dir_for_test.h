#pragma once
// For tests: a temporary directory (under $TMPDIR or /tmp) removed with everything in it when
// the owner goes. path() is empty when it could not be made.

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/file_util.h"

namespace berth::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    if (!path_.empty()) (void)removeAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace berth::testing
