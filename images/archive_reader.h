#pragma once
// libarchive's reader as the layer unpacker and the importer both hold it: owned, freed once,
// read in blocks of one size, its errors as text.
#include <archive.h>

#include <memory>
#include <string>

namespace berth::images {

inline constexpr size_t kArchiveReadBlock = 128 * 1024;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

inline std::string archiveError(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

}  // namespace berth::images
