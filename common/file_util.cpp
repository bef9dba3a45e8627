#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <system_error>

namespace berth {

Result<UniqueFd> openFd(const std::filesystem::path& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return failErrno(fmt::format("open {}", path.string()));
  return UniqueFd(fd);
}

static Result<std::string> readAll(int fd, std::string_view name) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno(fmt::format("read {}", name));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> readFile(const std::filesystem::path& path) {
  auto fd = BERTH_TRY(openFd(path, O_RDONLY));
  return readAll(fd.get(), path.string());
}

Result<std::string> readFileAt(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failErrno(fmt::format("open {}", name));
  UniqueFd owner(fd);
  return readAll(fd, name);
}

Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status writeFile(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  auto fd = BERTH_TRY(openFd(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return withContext(writeAll(fd.get(), data), fmt::format("write {}", path.string()));
}

Status writeKernelFile(const std::filesystem::path& path, std::string_view data) {
  auto fd = BERTH_TRY(openFd(path, O_WRONLY));
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failErrno(fmt::format("write {}", path.string()));
  if (static_cast<size_t>(n) != data.size())
    return fail(Code::kInternal, "write {}: short write", path.string());
  return {};
}

Status writeFileAtomic(const std::filesystem::path& path, std::string_view data, mode_t mode,
                       Durability durability) {
  // Unique per call, so threads of one process writing the same file don't share a temp file.
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}-{}", ::getpid(), counter++);
  {
    auto fd = BERTH_TRY(openFd(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    if (::fchmod(fd.get(), mode) < 0) return failErrno(fmt::format("chmod {}", tmp.string()));
    auto st = writeAll(fd.get(), data);
    if (st && durability == Durability::kDurable && ::fsync(fd.get()) < 0) st = failErrno("fsync");
    if (!st) {
      ::unlink(tmp.c_str());
      return std::unexpected(std::move(st).error().context(fmt::format("write {}", tmp.string())));
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return failErrno(err, fmt::format("rename {} to {}", tmp.string(), path.string()));
  }
  return {};
}

Result<std::pair<UniqueFd, UniqueFd>> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return failErrno("pipe");
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status makeDirs(const std::filesystem::path& path, mode_t mode) {
  std::filesystem::path cur;
  for (const auto& part : path) {
    cur /= part;
    if (cur == "/" || part.empty()) continue;
    if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST)
      return failErrno(fmt::format("mkdir {}", cur.string()));
  }
  return {};
}

Status removeAll(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return failErrno(ec.value(), fmt::format("remove {}", path.string()));
  return {};
}

}  // namespace berth
