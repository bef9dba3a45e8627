#include "images/blob_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"
#include "images/paths.h"

namespace berth::images {

Result<BlobWriter> BlobWriter::open(const std::filesystem::path& root, std::string digest,
                                    int64_t expectedSize) {
  BlobWriter w;
  w.hex_ = BERTH_TRY(sha256Hex(digest));
  w.root_ = root;
  w.digest_ = std::move(digest);
  w.expectedSize_ = expectedSize;
  auto path = paths::ingest(root, w.hex_);
  w.fd_ = BERTH_TRY(openFd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  int rc;
  do {
    rc = ::flock(w.fd_.get(), LOCK_EX);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return failErrno(fmt::format("lock {}", path.string()));
  // The file may have been committed (renamed away) by the writer we waited for; our fd then
  // names an unlinked inode. Reopen by path when that happened.
  struct stat byFd {
  }, byPath{};
  if (::fstat(w.fd_.get(), &byFd) < 0) return failErrno("fstat " + path.string());
  if (::stat(path.c_str(), &byPath) < 0 || byFd.st_ino != byPath.st_ino) {
    return open(root, w.digest_, expectedSize);
  }
  if (byFd.st_size > expectedSize) {
    if (::ftruncate(w.fd_.get(), 0) < 0) return failErrno("truncate " + path.string());
  } else if (byFd.st_size > 0) {
    char buf[1 << 16];
    int64_t done = 0;
    while (done < byFd.st_size) {
      ssize_t n = ::pread(w.fd_.get(), buf, sizeof buf, done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return failErrno("read " + path.string());
      if (n == 0) break;
      w.hash_.update(buf, static_cast<size_t>(n));
      done += n;
    }
    w.offset_ = done;
  }
  if (::lseek(w.fd_.get(), w.offset_, SEEK_SET) < 0) return failErrno("seek " + path.string());
  return w;
}

Status BlobWriter::write(const void* data, size_t size) {
  if (offset_ + static_cast<int64_t>(size) > expectedSize_) {
    return fail(Code::kDataLoss, "blob {}: more than the expected {} bytes", digest_,
                expectedSize_);
  }
  BERTH_TRY_CTX(writeAll(fd_.get(), std::string_view(static_cast<const char*>(data), size)),
                "write " + paths::ingest(root_, hex_).string());
  hash_.update(data, size);
  offset_ += static_cast<int64_t>(size);
  return {};
}

Status BlobWriter::restart() {
  if (::ftruncate(fd_.get(), 0) < 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    return failErrno("truncate " + paths::ingest(root_, hex_).string());
  }
  hash_ = Sha256();
  offset_ = 0;
  return {};
}

Status BlobWriter::commit() {
  auto ingestPath = paths::ingest(root_, hex_);
  if (offset_ != expectedSize_) {
    discard();
    return fail(Code::kDataLoss, "blob {}: got {} bytes, the descriptor says {}", digest_, offset_,
                expectedSize_);
  }
  std::string got = hash_.digest();
  if (got != digest_) {
    discard();
    return fail(Code::kDataLoss, "blob {}: content digest is {}", digest_, got);
  }
  if (::fchmod(fd_.get(), 0444) < 0 || ::fsync(fd_.get()) < 0) {
    return failErrno("sync " + ingestPath.string());
  }
  auto target = paths::blob(root_, hex_);
  if (::rename(ingestPath.c_str(), target.c_str()) < 0) {
    return failErrno(fmt::format("rename {} to {}", ingestPath.string(), target.string()));
  }
  fd_.reset();  // releases the lock; a waiter sees the inode gone and finds the blob
  return {};
}

void BlobWriter::discard() {
  if (!fd_) return;
  ::unlink(paths::ingest(root_, hex_).c_str());
  fd_.reset();
}

}  // namespace berth::images
