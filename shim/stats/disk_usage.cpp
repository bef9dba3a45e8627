#include "shim/stats/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "common/unique_fd.h"

namespace berth::cri::stats {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

class Walker {
 public:
  explicit Walker(dev_t dev) : dev_(dev) {}

  void count(const struct stat& st) {
    // Hard-linked files are remembered; directories can't be (st_nlink counts their subdirs).
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !linked_.emplace(st.st_dev, st.st_ino).second)
      return;
    usage_.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++usage_.inodes;
  }

  // Walks the entries of `dirFd` (owned); `path` is for messages only.
  Status walk(UniqueFd dirFd, const std::string& path) {
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dirFd.get()));
    if (!dir) return failErrno(fmt::format("read directory {}", path));
    int fd = dirFd.release();  // the DIR owns it now
    for (;;) {
      errno = 0;
      struct dirent* entry = ::readdir(dir.get());
      if (!entry) {
        if (errno != 0) return failErrno(fmt::format("read directory {}", path));
        return {};
      }
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      struct stat st {};
      if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;  // removed since readdir
        return failErrno(fmt::format("stat {}/{}", path, name));
      }
      if (st.st_dev != dev_) continue;  // a mount point: another filesystem's usage
      count(st);
      if (!S_ISDIR(st.st_mode)) continue;
      int child = ::openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        if (errno == ENOENT) continue;
        return failErrno(fmt::format("open {}/{}", path, name));
      }
      BERTH_TRY(walk(UniqueFd(child), path + "/" + name));
    }
  }

  DiskUsage usage() const { return usage_; }

 private:
  dev_t dev_;
  DiskUsage usage_;
  std::set<std::pair<dev_t, ino_t>> linked_;
};

}  // namespace

Result<DiskUsage> diskUsage(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return failErrno(fmt::format("open {}", dir.string()));
  UniqueFd root(fd);
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) return failErrno(fmt::format("stat {}", dir.string()));
  Walker walker(st.st_dev);
  walker.count(st);
  BERTH_TRY(walker.walk(std::move(root), dir.string()));
  return walker.usage();
}

}  // namespace berth::cri::stats
