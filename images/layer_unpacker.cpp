#include "images/layer_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "images/archive_reader.h"
#include "images/digest.h"

namespace berth::images {

Result<std::vector<std::string>> splitEntryPath(std::string_view name) {
  if (name.starts_with('/')) return fail(Code::kPermissionDenied, "absolute path refused");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part == "..") return fail(Code::kPermissionDenied, "\"..\" component refused");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";

// The decompressed stream: an outer reader (compression filters + the raw format) feeds the tar
// reader through this callback, and every byte passes the hasher, so the diff id is computed in
// the same pass.
struct Stream {
  archive* outer = nullptr;
  Sha256 hash;
  std::vector<char> buf = std::vector<char>(kArchiveReadBlock);
  std::string error;
};

la_ssize_t readDecompressed(archive* inner, void* ctx, const void** out) {
  auto* s = static_cast<Stream*>(ctx);
  la_ssize_t n = archive_read_data(s->outer, s->buf.data(), s->buf.size());
  if (n < 0) {
    s->error = archiveError(s->outer);
    archive_set_error(inner, EIO, "%s", s->error.c_str());
    return -1;
  }
  s->hash.update(s->buf.data(), static_cast<size_t>(n));
  *out = s->buf.data();
  return n;
}

std::string joinParts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

long openat2Fd(int dirfd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Opens the directory holding parts[0..count) below root, creating missing directories (0755,
// the metadata comes when their own entry arrives, as tar orders parents first). Never follows
// a symlink: a symlinked component is an error.
Result<UniqueFd> openParent(int rootFd, const std::vector<std::string>& parts, size_t count,
                            bool create) {
  if (count == 0) {
    long fd = openat2Fd(rootFd, ".", O_PATH | O_DIRECTORY);
    if (fd < 0) return failErrno("open target");
    return UniqueFd(static_cast<int>(fd));
  }
  std::string path = joinParts(parts, count);
  long fast = openat2Fd(rootFd, path, O_PATH | O_DIRECTORY);
  if (fast >= 0) return UniqueFd(static_cast<int>(fast));
  if (errno == ELOOP || errno == EXDEV) {
    return fail(Code::kPermissionDenied, "parent \"{}\" goes through a symlink", path);
  }
  if (errno == ENOTDIR)
    return fail(Code::kInvalidArgument, "parent \"{}\" is not a directory", path);
  if (errno != ENOENT) return failErrno(fmt::format("open parent \"{}\"", path));
  if (!create) return fail(Code::kNotFound, "\"{}\" does not exist in the layer", path);
  // Walk and create one component at a time.
  UniqueFd cur(::openat(rootFd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return failErrno("open target");
  for (size_t i = 0; i < count; ++i) {
    const std::string& comp = parts[i];
    int fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), comp.c_str(), 0755) < 0) {
        if (errno != EEXIST) return failErrno(fmt::format("mkdir \"{}\"", joinParts(parts, i + 1)));
      } else if (::fchmodat(cur.get(), comp.c_str(), 0755, 0) < 0) {
        // 0755 whatever the umask, as docker gives directories a layer leaves implicit.
        return failErrno(fmt::format("chmod \"{}\"", joinParts(parts, i + 1)));
      }
      fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        struct stat st {};
        if (::fstatat(cur.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
          return fail(Code::kPermissionDenied, "parent \"{}\" goes through a symlink",
                      joinParts(parts, i + 1));
        }
        return fail(Code::kInvalidArgument, "parent \"{}\" is not a directory",
                    joinParts(parts, i + 1));
      }
      return failErrno(fmt::format("open \"{}\"", joinParts(parts, i + 1)));
    }
    cur.reset(fd);
  }
  return cur;
}

// Removes what a new entry replaces (a later entry for the same name wins, as in tar). A
// directory stays when the new entry is a directory too.
Status clearName(int parentFd, const std::string& name, bool newIsDir) {
  struct stat st {};
  if (::fstatat(parentFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return failErrno("stat");
  }
  if (S_ISDIR(st.st_mode)) {
    if (newIsDir) return {};
    if (::unlinkat(parentFd, name.c_str(), AT_REMOVEDIR) < 0) {
      return failErrno("replace a directory");
    }
    return {};
  }
  if (::unlinkat(parentFd, name.c_str(), 0) < 0) return failErrno("replace");
  return {};
}

Status setXattrs(archive_entry* e, int fd, bool privileged) {
  archive_entry_xattr_reset(e);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n(name);
    // overlayfs reads its own metadata from these (redirect, metacopy, opaque, origin): a layer
    // must not forge them. Opaque directories come from .wh..wh..opq only.
    if (n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.")) {
      return fail(Code::kPermissionDenied, "xattr {} refused (overlayfs metadata)", name);
    }
    if (!privileged && (n.starts_with("trusted.") || n.starts_with("security."))) continue;
    if (::fsetxattr(fd, name, value, size, 0) < 0) {
      return failErrno(fmt::format("set xattr {}", name));
    }
  }
  return {};
}

timespec mtimeOf(archive_entry* e) {
  return {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
}

struct DirTime {
  std::string path;
  timespec mtime;
};

class Unpacker {
 public:
  Unpacker(int rootFd, const UnpackOptions& o) : rootFd_(rootFd), options_(o) {}

  Status entry(archive* a, archive_entry* e) {
    const char* rawName = archive_entry_pathname(e);
    std::string_view name = rawName ? rawName : "";
    auto parts = BERTH_TRY(splitEntryPath(name));
    if (parts.empty()) return rootEntry(e);
    std::string base = parts.back();
    auto parent = BERTH_TRY(openParent(rootFd_, parts, parts.size() - 1, /*create=*/true));
    std::string parentPath = joinParts(parts, parts.size() - 1);

    if (base.starts_with(kWhiteoutPrefix)) return whiteout(parent.get(), base, parentPath);

    const char* hardlink = archive_entry_hardlink(e);
    if (hardlink != nullptr) return hardLink(parent.get(), base, hardlink);

    mode_t type = archive_entry_filetype(e);
    BERTH_TRY(clearName(parent.get(), base, type == AE_IFDIR));
    switch (type) {
      case AE_IFREG:
        return regular(a, e, parent.get(), base);
      case AE_IFDIR:
        return directory(e, parent.get(), base, joinParts(parts, parts.size()));
      case AE_IFLNK:
        return symlink(e, parent.get(), base);
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        return special(e, parent.get(), base, type);
      default:
        return fail(Code::kInvalidArgument, "unsupported entry type {:o}", type);
    }
  }

  // Directory times last: creating their children changed them.
  Status finish() {
    for (auto it = dirTimes_.rbegin(); it != dirTimes_.rend(); ++it) {
      long fd = it->path.empty() ? ::openat(rootFd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                 : openat2Fd(rootFd_, it->path, O_RDONLY | O_DIRECTORY);
      if (fd < 0) return failErrno(fmt::format("entry \"{}\": reopen directory", it->path));
      UniqueFd dir(static_cast<int>(fd));
      timespec times[2] = {it->mtime, it->mtime};
      if (::futimens(dir.get(), times) < 0) {
        return failErrno(fmt::format("entry \"{}\": set times", it->path));
      }
    }
    return {};
  }

 private:
  Status rootEntry(archive_entry* e) {
    if (archive_entry_filetype(e) != AE_IFDIR) {
      return fail(Code::kInvalidArgument, "the layer root must be a directory");
    }
    UniqueFd dir(::openat(rootFd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return failErrno("open target");
    BERTH_TRY(ownAndMode(e, dir.get()));
    dirTimes_.push_back({"", mtimeOf(e)});
    return {};
  }

  Status ownAndMode(archive_entry* e, int fd) {
    if (options_.privileged && ::fchown(fd, static_cast<uid_t>(archive_entry_uid(e)),
                                        static_cast<gid_t>(archive_entry_gid(e))) < 0) {
      return failErrno("chown");
    }
    // After chown, which clears setuid/setgid.
    if (::fchmod(fd, archive_entry_perm(e)) < 0) return failErrno("chmod");
    // After chown too, which clears security.capability.
    return setXattrs(e, fd, options_.privileged);
  }

  Status regular(archive* a, archive_entry* e, int parentFd, const std::string& base) {
    UniqueFd fd(::openat(parentFd, base.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return failErrno("create");
    const void* block;
    size_t size;
    la_int64_t offset;
    int rc;
    while ((rc = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
      // Holes in sparse entries are skipped by the offsets.
      const char* p = static_cast<const char*>(block);
      while (size > 0) {
        ssize_t n = ::pwrite(fd.get(), p, size, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno("write");
        p += n;
        size -= static_cast<size_t>(n);
        offset += n;
      }
    }
    if (rc != ARCHIVE_EOF) return fail(Code::kDataLoss, "read: {}", archiveError(a));
    if (::ftruncate(fd.get(), archive_entry_size(e)) < 0) return failErrno("truncate");
    BERTH_TRY(ownAndMode(e, fd.get()));
    timespec times[2] = {mtimeOf(e), mtimeOf(e)};
    if (::futimens(fd.get(), times) < 0) return failErrno("set times");
    return {};
  }

  Status directory(archive_entry* e, int parentFd, const std::string& base,
                   const std::string& path) {
    if (::mkdirat(parentFd, base.c_str(), 0700) < 0 && errno != EEXIST) return failErrno("mkdir");
    UniqueFd fd(::openat(parentFd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return failErrno("open directory");
    BERTH_TRY(ownAndMode(e, fd.get()));
    dirTimes_.push_back({path, mtimeOf(e)});
    return {};
  }

  Status symlink(archive_entry* e, int parentFd, const std::string& base) {
    const char* target = archive_entry_symlink(e);
    if (target == nullptr || *target == '\0') {
      return fail(Code::kInvalidArgument, "symlink without a target");
    }
    // The target is only data: nothing here ever follows it.
    if (::symlinkat(target, parentFd, base.c_str()) < 0) return failErrno("symlink");
    if (options_.privileged &&
        ::fchownat(parentFd, base.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0) {
      return failErrno("chown");
    }
    timespec times[2] = {mtimeOf(e), mtimeOf(e)};
    if (::utimensat(parentFd, base.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
      return failErrno("set times");
    }
    return {};
  }

  Status special(archive_entry* e, int parentFd, const std::string& base, mode_t type) {
    if (!options_.privileged && type != AE_IFIFO) {
      return fail(Code::kPermissionDenied, "device nodes need a privileged unpack");
    }
    mode_t mode = (type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO) | 0600;
    if (::mknodat(parentFd, base.c_str(), mode, archive_entry_rdev(e)) < 0) {
      return failErrno("mknod");
    }
    // Device nodes can't be opened safely to fchmod (opening a device has effects): O_PATH and
    // the *at calls with AT_SYMLINK_NOFOLLOW on a name we just created.
    if (options_.privileged &&
        ::fchownat(parentFd, base.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0) {
      return failErrno("chown");
    }
    if (::fchmodat(parentFd, base.c_str(), archive_entry_perm(e), 0) < 0) return failErrno("chmod");
    timespec times[2] = {mtimeOf(e), mtimeOf(e)};
    if (::utimensat(parentFd, base.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
      return failErrno("set times");
    }
    return {};
  }

  Status hardLink(int parentFd, const std::string& base, std::string_view linkName) {
    auto src = splitEntryPath(linkName);
    if (!src) return std::unexpected(std::move(src).error().context("link target"));
    if (src->empty()) return fail(Code::kInvalidArgument, "hard link to the layer root");
    auto srcParent = openParent(rootFd_, *src, src->size() - 1, /*create=*/false);
    if (!srcParent) return std::unexpected(std::move(srcParent).error().context("link target"));
    BERTH_TRY(clearName(parentFd, base, false));
    // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
    if (::linkat(srcParent->get(), src->back().c_str(), parentFd, base.c_str(), 0) < 0) {
      return failErrno(fmt::format("link to \"{}\"", linkName));
    }
    return {};
  }

  Status whiteout(int parentFd, const std::string& base, const std::string& parentPath) {
    if (base == kOpaqueWhiteout) {
      UniqueFd dir(::openat(parentFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir) return failErrno("open directory");
      if (!options_.privileged) {
        return fail(Code::kPermissionDenied, "opaque whiteouts need a privileged unpack");
      }
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) < 0) {
        return failErrno(fmt::format("mark \"{}\" opaque", parentPath));
      }
      return {};
    }
    if (base.starts_with(kWhiteoutMetaPrefix)) return {};  // aufs metadata (.wh..wh.plnk): none
    std::string name = base.substr(kWhiteoutPrefix.size());
    if (name.empty() || name == "." || name == "..") {
      return fail(Code::kInvalidArgument, "whiteout of \"{}\" refused", name);
    }
    if (!options_.privileged) {
      return fail(Code::kPermissionDenied, "whiteouts need a privileged unpack");
    }
    BERTH_TRY(clearName(parentFd, name, false));
    // overlayfs.rst "whiteouts": a character device with 0/0 device number.
    if (::mknodat(parentFd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) {
      return failErrno("create whiteout");
    }
    return {};
  }

  int rootFd_;
  UnpackOptions options_;
  std::vector<DirTime> dirTimes_;
};

}  // namespace

Result<UnpackResult> unpackLayer(int blobFd, int targetFd, const UnpackOptions& options) {
  ArchivePtr outer(archive_read_new());
  ArchivePtr inner(archive_read_new());
  if (!outer || !inner) return fail(Code::kResourceExhausted, "libarchive: out of memory");
  archive_read_support_filter_gzip(outer.get());
  archive_read_support_filter_zstd(outer.get());
  archive_read_support_format_raw(outer.get());
  // An empty stream (a 0-byte blob, a gzip of nothing) is an empty layer, not garbage.
  archive_read_support_format_empty(outer.get());
  if (archive_read_open_fd(outer.get(), blobFd, kArchiveReadBlock) != ARCHIVE_OK) {
    return fail(Code::kInvalidArgument, "open layer: {}", archiveError(outer.get()));
  }
  archive_entry* rawEntry;
  int rc = archive_read_next_header(outer.get(), &rawEntry);
  Stream stream;
  stream.outer = outer.get();
  UnpackResult result;
  if (rc == ARCHIVE_EOF) {
    result.diffId = stream.hash.digest();  // of nothing
    return result;
  }
  if (rc != ARCHIVE_OK) {
    return fail(Code::kInvalidArgument, "read layer: {}", archiveError(outer.get()));
  }
  archive_read_support_format_tar(inner.get());
  if (archive_read_open(inner.get(), &stream, nullptr, readDecompressed, nullptr) != ARCHIVE_OK) {
    return fail(Code::kInvalidArgument, "read layer: {}", archiveError(inner.get()));
  }
  Unpacker unpacker(targetFd, options);
  archive_entry* e;
  while ((rc = archive_read_next_header(inner.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    const char* name = archive_entry_pathname(e);
    auto st = unpacker.entry(inner.get(), e);
    if (!st)
      return std::unexpected(
          std::move(st).error().context(fmt::format("entry \"{}\"", name ? name : "")));
    ++result.entries;
  }
  if (rc != ARCHIVE_EOF) {
    return fail(Code::kDataLoss, "read layer: {}",
                stream.error.empty() ? archiveError(inner.get()) : stream.error);
  }
  BERTH_TRY(unpacker.finish());
  // The tar reader stops at the end-of-archive blocks; the diff id covers the whole stream.
  la_ssize_t n;
  while ((n = archive_read_data(outer.get(), stream.buf.data(), stream.buf.size())) > 0) {
    stream.hash.update(stream.buf.data(), static_cast<size_t>(n));
  }
  if (n < 0) return fail(Code::kDataLoss, "read layer: {}", archiveError(outer.get()));
  result.diffId = stream.hash.digest();
  return result;
}

}  // namespace berth::images
