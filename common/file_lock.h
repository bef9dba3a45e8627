#pragma once
// An exclusive flock(2) on a lock file, held while the object lives: one daemon per path
// (berth-cri's <listen>.lock).
#include <filesystem>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

class FileLock {
 public:
  // Creates the file if needed (0600). kFailedPrecondition when another process holds it.
  [[nodiscard]] static Result<FileLock> tryLock(const std::filesystem::path& path);
  const std::filesystem::path& path() const { return path_; }

 private:
  FileLock(UniqueFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::filesystem::path path_;
};

}  // namespace berth
