#include "images/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"
#include "images/paths.h"

namespace berth::images {
namespace {

Result<std::vector<std::string>> listDir(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    out.push_back(e.path().filename().string());
  }
  if (ec) return failErrno(ec.value(), "list " + dir.string());
  return out;
}

}  // namespace

Result<ContentStore> ContentStore::open(std::filesystem::path root) {
  for (const auto& dir : {paths::blobsDir(root), paths::ingestDir(root)}) {
    BERTH_TRY(makeDirs(dir, 0700));
  }
  return ContentStore(std::move(root));
}

bool ContentStore::has(std::string_view digest) const {
  auto p = path(digest);
  return p && ::access(p->c_str(), F_OK) == 0;
}

Result<std::filesystem::path> ContentStore::path(std::string_view digest) const {
  return paths::blob(root_, BERTH_TRY(sha256Hex(digest)));
}

Result<std::string> ContentStore::read(std::string_view digest) const {
  auto p = BERTH_TRY(path(digest));
  auto data = readFile(p);
  if (!data && data.error().sysErrno() == ENOENT) {
    return fail(Code::kNotFound, "blob {} not found", digest);
  }
  return data;
}

Result<UniqueFd> ContentStore::openBlob(std::string_view digest) const {
  auto p = BERTH_TRY(path(digest));
  auto fd = openFd(p, O_RDONLY | O_CLOEXEC);
  if (!fd && fd.error().sysErrno() == ENOENT) {
    return fail(Code::kNotFound, "blob {} not found", digest);
  }
  return fd;
}

Status ContentStore::put(std::string_view digest, std::string_view data) {
  auto w = BERTH_TRY(ingest(std::string(digest), static_cast<int64_t>(data.size())));
  if (!w) return {};
  if (w->offset() != 0) BERTH_TRY(w->restart());
  BERTH_TRY(w->write(data.data(), data.size()));
  return w->commit();
}

Result<std::optional<BlobWriter>> ContentStore::ingest(const std::string& digest, int64_t size) {
  if (size < 0) return fail(Code::kInvalidArgument, "blob {}: negative size", digest);
  if (has(digest)) return std::optional<BlobWriter>();
  auto w = BERTH_TRY(BlobWriter::open(root_, digest, size));
  if (has(digest)) {
    w.discard();
    return std::optional<BlobWriter>();
  }
  return std::optional<BlobWriter>(std::move(w));
}

Status ContentStore::remove(std::string_view digest) {
  auto p = BERTH_TRY(path(digest));
  if (::unlink(p.c_str()) < 0 && errno != ENOENT) return failErrno("remove " + p.string());
  return {};
}

Result<std::vector<std::string>> ContentStore::list() const {
  auto names = BERTH_TRY(listDir(paths::blobsDir(root_)));
  std::vector<std::string> out;
  for (auto& n : names) {
    if (n.size() == 64) out.push_back("sha256:" + n);
  }
  return out;
}

Result<std::vector<std::string>> ContentStore::staleIngests() const {
  auto names = BERTH_TRY(listDir(paths::ingestDir(root_)));
  std::vector<std::string> out;
  for (auto& n : names) {
    auto fd = openFd(paths::ingest(root_, n), O_RDONLY | O_CLOEXEC);
    if (!fd) continue;
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) == 0) out.push_back(n);
  }
  return out;
}

void ContentStore::removeIngest(std::string_view hex) {
  ::unlink(paths::ingest(root_, hex).c_str());
}

}  // namespace berth::images
