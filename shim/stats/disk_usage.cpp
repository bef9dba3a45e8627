#include "shim/stats/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace berth::cri::stats {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

using InodeKey = std::pair<dev_t, ino_t>;

// One directory on the way down: its identity and the subdirectories still to visit.
struct Level {
  std::string name;
  InodeKey id;
  std::vector<std::pair<std::string, InodeKey>> subdirs;
  size_t next = 0;
};

// The tree belongs to a container, so its depth is not ours to choose: the walk holds one fd
// (the current directory) at any depth, going back up through ".." checked against the inode it
// came from.
class Walker {
 public:
  Walker(std::string root, dev_t dev) : root_(std::move(root)), dev_(dev) {}

  void count(const struct stat& st) {
    // Hard-linked files are remembered; directories can't be (st_nlink counts their subdirs).
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !linked_.emplace(st.st_dev, st.st_ino).second)
      return;
    usage_.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++usage_.inodes;
  }

  Status walk(UniqueFd rootFd, const struct stat& rootSt) {
    UniqueFd cur = std::move(rootFd);
    std::vector<Level> stack;
    stack.push_back(BERTH_TRY(list(cur.get(), "", {rootSt.st_dev, rootSt.st_ino}, root_)));
    while (!stack.empty()) {
      Level& top = stack.back();
      if (top.next < top.subdirs.size()) {
        auto [name, id] = top.subdirs[top.next++];
        int fd = ::openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;  // changed since
          return failErrno(fmt::format("open {}", path(stack, name)));
        }
        UniqueFd child(fd);
        if (BERTH_TRY(identity(child.get(), stack, name)) != id) continue;  // replaced since
        Level level = BERTH_TRY(list(child.get(), name, id, path(stack, name)));
        cur = std::move(child);
        stack.push_back(std::move(level));
        continue;
      }
      stack.pop_back();
      if (stack.empty()) break;
      int fd = ::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return failErrno(fmt::format("open {}/..", path(stack, "")));
      UniqueFd parent(fd);
      if (BERTH_TRY(identity(parent.get(), stack, "")) != stack.back().id)
        return fail(Code::kAborted, "{} was moved while its usage was measured", path(stack, ""));
      cur = std::move(parent);
    }
    return {};
  }

  DiskUsage usage() const { return usage_; }

 private:
  std::string path(const std::vector<Level>& stack, const std::string& leaf) const {
    std::string p = root_;
    for (size_t i = 1; i < stack.size(); ++i)
      p += "/" + stack[i].name;
    return leaf.empty() ? p : p + "/" + leaf;
  }

  Result<InodeKey> identity(int fd, const std::vector<Level>& stack, const std::string& leaf) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return failErrno(fmt::format("stat {}", path(stack, leaf)));
    return InodeKey{st.st_dev, st.st_ino};
  }

  // Counts the entries of the directory `fd` (borrowed) and lists its subdirectories on this
  // filesystem.
  Result<Level> list(int fd, const std::string& name, InodeKey id, const std::string& where) {
    Level level{name, id, {}, 0};
    int dupFd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupFd < 0) return failErrno("dup");
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dupFd));
    if (!dir) {
      ::close(dupFd);
      return failErrno(fmt::format("read directory {}", where));
    }
    for (;;) {
      errno = 0;
      struct dirent* entry = ::readdir(dir.get());
      if (!entry) {
        if (errno != 0) return failErrno(fmt::format("read directory {}", where));
        return level;
      }
      const char* entryName = entry->d_name;
      if (std::strcmp(entryName, ".") == 0 || std::strcmp(entryName, "..") == 0) continue;
      struct stat st {};
      if (::fstatat(fd, entryName, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;  // removed since readdir
        return failErrno(fmt::format("stat {}/{}", where, entryName));
      }
      if (st.st_dev != dev_) continue;  // a mount point: another filesystem's usage
      count(st);
      if (S_ISDIR(st.st_mode))
        level.subdirs.emplace_back(entryName, InodeKey{st.st_dev, st.st_ino});
    }
  }

  std::string root_;
  dev_t dev_;
  DiskUsage usage_;
  std::set<InodeKey> linked_;
};

}  // namespace

Result<DiskUsage> diskUsage(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return failErrno(fmt::format("open {}", dir.string()));
  UniqueFd root(fd);
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) return failErrno(fmt::format("stat {}", dir.string()));
  Walker walker(dir.string(), st.st_dev);
  walker.count(st);
  BERTH_TRY(walker.walk(std::move(root), st));
  return walker.usage();
}

}  // namespace berth::cri::stats
