#include "kubelet/volume/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <random>
#include <set>
#include <system_error>

#include "common/file_util.h"
#include "common/unique_fd.h"
#include "kubeapi/go_format.h"

namespace berth::kubelet::volume {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDataDirName = "..data";
constexpr const char* kNewDataDirName = "..data_tmp";
constexpr std::size_t kMaxFileNameLength = 255;
constexpr std::size_t kMaxPathLength = 4096;

// filepath.Clean for a validated relative path: "a//b/./c/" -> "a/b/c".
std::string cleanPath(std::string_view path) {
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

Result<Payload> cleanPayload(const Payload& payload) {
  Payload clean;
  for (const auto& [path, file] : payload) {
    BERTH_TRY(validatePayloadPath(path));
    clean[cleanPath(path)] = file;
  }
  return clean;
}

// The timestamped directory ..data points to, or "" when there is none yet.
Result<std::string> currentTimestampDir(const fs::path& target) {
  std::error_code ec;
  fs::path link = fs::read_symlink(target / kDataDirName, ec);
  if (ec == std::errc::no_such_file_or_directory) return std::string();
  if (ec)
    return failErrno(ec.value(), fmt::format("readlink {}", (target / kDataDirName).string()));
  return link.string();
}

// Every path under dir, relative to it, without following symlinks.
Result<std::set<std::string>> relativePathsUnder(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec == std::errc::no_such_file_or_directory) return out;
  for (; !ec && it != end; it.increment(ec))
    out.insert(it->path().lexically_relative(dir).string());
  if (ec) return failErrno(ec.value(), fmt::format("walk {}", dir.string()));
  return out;
}

// What the old version has and the new one does not, minus the parents of new paths (a
// non-empty directory stays).
Result<std::set<std::string>> pathsToRemove(const Payload& payload, const fs::path& oldTsDir) {
  std::set<std::string> paths = BERTH_TRY(relativePathsUnder(oldTsDir));
  for (const auto& [file, _] : payload) {
    for (fs::path p = file; !p.empty(); p = p.parent_path())
      paths.erase(p.string());
  }
  return paths;
}

Result<bool> shouldWritePayload(const Payload& payload, const fs::path& oldTsDir) {
  for (const auto& [path, file] : payload) {
    fs::path onDisk = oldTsDir / path;
    struct stat st {};
    if (::lstat(onDisk.c_str(), &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return true;
      return failErrno(fmt::format("lstat {}", onDisk.string()));
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) != file.data.size())
      return true;
    std::string content = BERTH_TRY(readFile(onDisk));
    if (content != file.data) return true;
  }
  return false;
}

Status fsyncPath(const fs::path& path) {
  auto fd = BERTH_TRY(openFd(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) return failErrno(fmt::format("fsync {}", path.string()));
  return {};
}

// ..2026_12_07_19_44_01.<random>, 0755 whatever the umask (upstream: os.MkdirTemp + chmod).
Result<fs::path> makeTimestampDir(const fs::path& target) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::string prefix = fmt::format("..{:04}_{:02}_{:02}_{:02}_{:02}_{:02}.", tm.tm_year + 1900,
                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path dir = target / fmt::format("{}{}", prefix, rng());
    if (::mkdir(dir.c_str(), 0700) < 0) {
      if (errno == EEXIST) continue;
      return failErrno(fmt::format("mkdir {}", dir.string()));
    }
    if (::chmod(dir.c_str(), 0755) < 0) return failErrno(fmt::format("chmod {}", dir.string()));
    return dir;
  }
  return fail(Code::kAborted, "mkdir {}*: every name taken", (target / prefix).string());
}

Status writeProjectedFile(const fs::path& path, const FileProjection& file) {
  auto fd = BERTH_TRY(openFd(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, file.mode));
  BERTH_TRY_CTX(writeAll(fd.get(), file.data), fmt::format("write {}", path.string()));
  // The mode given, not mode & ~umask.
  if (::fchmod(fd.get(), file.mode) < 0) return failErrno(fmt::format("chmod {}", path.string()));
  if (file.fsUser && ::fchown(fd.get(), *file.fsUser, static_cast<gid_t>(-1)) < 0)
    return failErrno(fmt::format("chown {}", path.string()));
  if (::fsync(fd.get()) < 0) return failErrno(fmt::format("fsync {}", path.string()));
  return {};
}

// Writes every file, then fsyncs every directory that holds one, so that the rename of
// ..data_tmp never publishes a directory whose entries a crash could lose.
Status writePayloadToDir(const Payload& payload, const fs::path& dir) {
  std::set<fs::path> dirs{dir};
  for (const auto& [path, file] : payload) {
    fs::path full = dir / path;
    BERTH_TRY(makeDirs(full.parent_path(), 0777));  // os.MkdirAll(baseDir, os.ModePerm)
    for (fs::path p = full.parent_path(); p != dir && p.has_relative_path(); p = p.parent_path())
      dirs.insert(p);
    BERTH_TRY(writeProjectedFile(full, file));
  }
  for (const auto& d : dirs)
    BERTH_TRY(fsyncPath(d));
  return {};
}

// key -> ..data/key for each top-level entry; an existing entry is left alone.
Status createUserVisibleFiles(const Payload& payload, const fs::path& target) {
  for (const auto& [path, _] : payload) {
    std::string top = path.substr(0, path.find('/'));
    fs::path visible = target / top;
    struct stat st {};
    if (::lstat(visible.c_str(), &st) == 0) continue;
    if (errno != ENOENT) return failErrno(fmt::format("lstat {}", visible.string()));
    fs::path link = fs::path(kDataDirName) / top;
    if (::symlink(link.c_str(), visible.c_str()) < 0)
      return failErrno(fmt::format("symlink {} -> {}", visible.string(), link.string()));
  }
  return {};
}

// Only top-level entries are links of ours; deeper paths went with the old timestamped dir.
Status removeUserVisiblePaths(const std::set<std::string>& paths, const fs::path& target) {
  for (const auto& p : paths) {
    if (p.find('/') != std::string::npos) continue;
    fs::path visible = target / p;
    if (::unlink(visible.c_str()) < 0 && errno != ENOENT)
      return failErrno(fmt::format("remove {}", visible.string()));
  }
  return {};
}

bool isTimestampDirName(const std::string& name) {
  return name.size() > 2 && name.starts_with("..") && name[2] >= '0' && name[2] <= '9';
}

// Timestamped dirs other than the live one: left by a write that failed or crashed halfway
// (upstream leaves them forever; removing them makes a retry converge).
Status removeStaleTimestampDirs(const fs::path& target, const std::string& live) {
  std::error_code ec;
  for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name != live && isTimestampDirName(name)) BERTH_TRY(removeAll(it->path()));
  }
  if (ec) return failErrno(ec.value(), fmt::format("list {}", target.string()));
  return {};
}

}  // namespace

Status validatePayloadPath(std::string_view path) {
  if (path.empty()) return fail(Code::kInvalidArgument, "invalid path: must not be empty: \"\"");
  if (path.front() == '/')
    return fail(Code::kInvalidArgument, "invalid path: must be relative path: {}", path);
  if (path.size() > kMaxPathLength)
    return fail(Code::kInvalidArgument, "invalid path: must be less than or equal to {} characters",
                kMaxPathLength);
  std::string_view first;
  for (std::size_t start = 0;;) {
    std::size_t slash = path.find('/', start);
    std::string_view item =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (start == 0) first = item;
    if (item == "..")
      return fail(Code::kInvalidArgument, "invalid path: must not contain '..': {}", path);
    if (item.size() > kMaxFileNameLength)
      return fail(Code::kInvalidArgument,
                  "invalid path: filenames must be less than or equal to {} characters",
                  kMaxFileNameLength);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (first.starts_with("..") && first.size() > 2)
    return fail(Code::kInvalidArgument, "invalid path: must not start with '..': {}", path);
  if (path.find('\0') != std::string_view::npos)
    return fail(Code::kInvalidArgument, "invalid path: must not contain NUL: {}",
                kubeapi::goQuote(path));
  return {};
}

Result<AtomicWriter> AtomicWriter::open(fs::path targetDir) {
  struct stat st {};
  if (::stat(targetDir.c_str(), &st) < 0)
    return failErrno(fmt::format("stat {}", targetDir.string()));
  if (!S_ISDIR(st.st_mode))
    return fail(Code::kFailedPrecondition, "{}: not a directory", targetDir.string());
  return AtomicWriter(std::move(targetDir));
}

Result<bool> AtomicWriter::write(const Payload& payload, const SetPerms& setPerms) {
  const fs::path& target = targetDir_;
  Payload clean = BERTH_TRY(cleanPayload(payload));
  std::string oldTsDir = BERTH_TRY(currentTimestampDir(target));

  std::set<std::string> removed;
  bool shouldWrite = true;
  if (!oldTsDir.empty()) {
    removed = BERTH_TRY(pathsToRemove(clean, target / oldTsDir));
    shouldWrite = BERTH_TRY(shouldWritePayload(clean, target / oldTsDir)) || !removed.empty();
  }

  std::string liveTsDir = oldTsDir;
  if (shouldWrite) {
    BERTH_TRY(removeStaleTimestampDirs(target, oldTsDir));
    fs::path tsDir = BERTH_TRY(makeTimestampDir(target));
    BERTH_TRY(writePayloadToDir(clean, tsDir));
    if (setPerms) BERTH_TRY_CTX(setPerms(tsDir), "set volume ownership");
    liveTsDir = tsDir.filename().string();
    fs::path newData = target / kNewDataDirName;
    // A ..data_tmp left by a crash between symlink and rename would fail every later write.
    if (::unlink(newData.c_str()) < 0 && errno != ENOENT)
      return failErrno(fmt::format("remove {}", newData.string()));
    if (::symlink(liveTsDir.c_str(), newData.c_str()) < 0)
      return failErrno(fmt::format("symlink {} -> {}", newData.string(), liveTsDir));
    if (::rename(newData.c_str(), (target / kDataDirName).c_str()) < 0)
      return failErrno(fmt::format("rename {} to {}", newData.string(), kDataDirName));
    BERTH_TRY(fsyncPath(target));
  }
  // Also when nothing was written: a previous attempt may have stopped before making them
  // (kubernetes#121472).
  BERTH_TRY(createUserVisibleFiles(clean, target));
  BERTH_TRY(removeUserVisiblePaths(removed, target));
  if (shouldWrite && !oldTsDir.empty()) BERTH_TRY(removeAll(target / oldTsDir));
  return shouldWrite;
}

}  // namespace berth::kubelet::volume
