#pragma once
// One blob being written into the content store: bytes are hashed as they stream to
// ingest/<hex>, and commit() renames the file into blobs/ only when size and digest match. The
// writer holds flock(LOCK_EX) on its ingest file for its lifetime, so two pulls of one blob never
// write it twice. A writer dropped without commit keeps its bytes for the next pull to resume.

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "images/digest.h"

namespace berth::images {

class BlobWriter {
 public:
  // Opens (or reopens, for resuming) ingest/<hex> and locks it, waiting for another writer.
  // Existing bytes are re-hashed; more bytes than expected restart the file from zero.
  [[nodiscard]] static Result<BlobWriter> open(const std::filesystem::path& root,
                                               std::string digest, int64_t expectedSize);

  BlobWriter(BlobWriter&&) = default;
  BlobWriter& operator=(BlobWriter&&) = default;

  const std::string& digest() const { return digest_; }
  // Bytes already written (where a ranged request resumes).
  int64_t offset() const { return offset_; }
  int64_t expectedSize() const { return expectedSize_; }
  // Appends; more bytes than the descriptor's size is an error (kDataLoss).
  [[nodiscard]] Status write(const void* data, size_t size);
  // Drops what was written and starts again from zero (the server ignored a Range request).
  [[nodiscard]] Status restart();
  // Verifies size and digest, fsyncs and renames into blobs/. On a mismatch the ingest file is
  // removed and the error (kDataLoss) names both digests.
  [[nodiscard]] Status commit();
  // Removes the ingest file now.
  void discard();

 private:
  BlobWriter() = default;
  std::filesystem::path root_;
  std::string digest_;
  std::string hex_;
  int64_t expectedSize_ = 0;
  int64_t offset_ = 0;
  Sha256 hash_;
  UniqueFd fd_;
};

}  // namespace berth::images
