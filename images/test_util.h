#pragma once
// Helpers shared by the images/ unit tests: a temporary directory removed at the end.

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/file_util.h"

namespace berth::images::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "berth-images-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() { (void)removeAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace berth::images::testing
