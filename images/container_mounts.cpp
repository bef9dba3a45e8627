#include "images/container_mounts.h"

#include <fcntl.h>
#include <sys/mount.h>  // glibc 2.36: fsopen, fsconfig, fsmount, move_mount
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/scope_guard.h"
#include "common/unique_fd.h"
#include "images/digest.h"
#include "images/paths.h"
#include "ocispec/json_reader.h"

namespace berth::images {
namespace {

// CRI container ids are 64 hex; people using the CLI pick names. No '/', no leading dot.
Status validateId(const std::string& id) {
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
  if (!std::regex_match(id, re)) {
    return fail(Code::kInvalidArgument, "invalid container id \"{}\"", id);
  }
  return {};
}

// fsconfig(2) errors carry the kernel's reason in the fs context's log (read(2) on the fd).
std::string fsContextLog(int fsfd) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fsfd, buf, sizeof buf)) > 0) {
    if (!out.empty()) out += "; ";
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status fsconfigString(int fsfd, const char* key, const std::string& value) {
  if (::fsconfig(fsfd, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) {
    int err = errno;
    std::string log = fsContextLog(fsfd);
    return failErrno(
        err, fmt::format("overlay {}={}{}", key, value, log.empty() ? "" : " (" + log + ")"));
  }
  return {};
}

// Attaches a mount fd at `target`, read-only if asked.
Status attach(int mntfd, const std::filesystem::path& target) {
  if (::move_mount(mntfd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    return failErrno("move_mount to " + target.string());
  }
  return {};
}

Status bindReadOnly(const std::filesystem::path& source, const std::filesystem::path& target) {
  UniqueFd tree(
      static_cast<int>(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree) return failErrno("open_tree " + source.string());
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    return failErrno("mount_setattr " + source.string());
  }
  return attach(tree.get(), target);
}

}  // namespace

Result<ContainerMounts> ContainerMounts::open(std::filesystem::path root) {
  BERTH_TRY(makeDirs(paths::containersDir(root), 0700));
  return ContainerMounts(std::move(root));
}

bool ContainerMounts::kernelHasLowerdirPlus() {
  static const bool has = [] {
    UniqueFd fsfd(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fsfd) return false;
    // Before 6.5 overlayfs has no fs_context of its own: the kernel's legacy one takes any key
    // (it only appends "key=value" to the mount(2) option string, which overlay then refuses at
    // FSCONFIG_CMD_CREATE). So a made-up key must be refused for "lowerdir+" to mean anything.
    if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "berth-no-such-option", "1", 0) == 0)
      return false;
    return ::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "lowerdir+", "/", 0) == 0;
  }();
  return has;
}

Status ContainerMounts::mountWithFsconfig(const std::vector<std::filesystem::path>& lowers,
                                          const std::filesystem::path& dir, bool readOnly) const {
  UniqueFd fsfd(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fsfd) return failErrno("fsopen overlay");
  // overlayfs.rst: lower layers are listed top-most first.
  for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
    BERTH_TRY(fsconfigString(fsfd.get(), "lowerdir+", it->string()));
  }
  if (!readOnly) {
    BERTH_TRY(fsconfigString(fsfd.get(), "upperdir", (dir / "upper").string()));
    BERTH_TRY(fsconfigString(fsfd.get(), "workdir", (dir / "work").string()));
  }
  if (::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    int err = errno;
    return failErrno(err, "create overlay: " + fsContextLog(fsfd.get()));
  }
  UniqueFd mnt(::fsmount(fsfd.get(), FSMOUNT_CLOEXEC, readOnly ? MOUNT_ATTR_RDONLY : 0));
  if (!mnt) return failErrno("fsmount overlay");
  return attach(mnt.get(), dir / "merged");
}

Status ContainerMounts::mountWithOptionString(const std::vector<std::string>& relativeLowers,
                                              const std::filesystem::path& dir,
                                              bool readOnly) const {
  std::string options = "lowerdir=";
  for (auto it = relativeLowers.rbegin(); it != relativeLowers.rend(); ++it) {
    if (it != relativeLowers.rbegin()) options += ':';
    options += *it;
  }
  if (!readOnly) {
    options +=
        fmt::format(",upperdir={},workdir={}", (dir / "upper").string(), (dir / "work").string());
  }
  long pageSize = ::sysconf(_SC_PAGESIZE);
  if (static_cast<long>(options.size()) >= pageSize) {
    return fail(Code::kResourceExhausted,
                "{} layers make a {}-byte overlay option string, more than this kernel's "
                "{}-byte limit (it lacks overlay's lowerdir+, Linux 6.8)",
                relativeLowers.size(), options.size(), pageSize);
  }
  std::string snapshots = paths::snapshotsDir(root_).string();
  std::string target = (dir / "merged").string();
  unsigned long flags = readOnly ? MS_RDONLY : 0;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return failErrno("pipe");
  UniqueFd readEnd(pipefd[0]), writeEnd(pipefd[1]);
  // The relative lower dirs resolve against the cwd of the process calling mount(2): a child
  // changes its cwd so the caller's threads keep theirs. No allocation after fork.
  pid_t pid = ::fork();
  if (pid < 0) return failErrno("fork");
  if (pid == 0) {
    int err = 0;
    if (::chdir(snapshots.c_str()) < 0 ||
        ::mount("overlay", target.c_str(), "overlay", flags, options.c_str()) < 0) {
      err = errno;
    }
    (void)!::write(writeEnd.get(), &err, sizeof err);
    ::_exit(err == 0 ? 0 : 1);
  }
  ChildProcess child(pid);
  writeEnd.reset();
  int err = 0;
  ssize_t n = ::read(readEnd.get(), &err, sizeof err);
  BERTH_TRY(child.wait());
  if (n != sizeof err) return fail(Code::kInternal, "mount helper died");
  if (err != 0) return failErrno(err, fmt::format("mount overlay on {}", target));
  return {};
}

Result<ContainerMountInfo> ContainerMounts::mount(const std::string& id,
                                                  const std::vector<std::string>& chainIds,
                                                  const ContainerMountOptions& options) {
  BERTH_TRY(validateId(id));
  if (chainIds.empty()) return fail(Code::kInvalidArgument, "container {}: no layers", id);
  std::vector<std::filesystem::path> lowers;
  std::vector<std::string> relativeLowers;
  for (const auto& chain : chainIds) {
    auto hex = BERTH_TRY_CTX(sha256Hex(chain), "container " + id);
    auto fs = paths::snapshot(root_, hex) / "fs";
    if (::access((paths::snapshot(root_, hex) / "snapshot.json").c_str(), F_OK) < 0) {
      return fail(Code::kNotFound, "container {}: snapshot {} is not unpacked", id, chain);
    }
    lowers.push_back(fs);
    relativeLowers.push_back(hex + "/fs");
  }
  auto dir = paths::container(root_, id);
  if (::mkdir(dir.c_str(), 0700) < 0) {
    if (errno == EEXIST) return fail(Code::kAlreadyExists, "container {} already exists", id);
    return failErrno("mkdir " + dir.string());
  }
  auto cleanup = defer([&] { (void)removeAll(dir); });
  for (const char* sub : {"upper", "work", "merged"}) {
    if (options.readOnly && std::string_view(sub) != "merged") continue;
    BERTH_TRY(makeDirs(dir / sub, 0755));
  }
  if (!options.readOnly) {
    // The merged root shows the upper dir's mode and owner: take the image's (containerd copies
    // the parent snapshot's owner the same way), not whatever our umask made.
    struct stat top {};
    if (::stat(lowers.back().c_str(), &top) < 0) return failErrno("stat " + lowers.back().string());
    if (::chmod((dir / "upper").c_str(), top.st_mode & 07777) < 0 ||
        ::chown((dir / "upper").c_str(), top.st_uid, top.st_gid) < 0) {
      return failErrno("set up " + (dir / "upper").string());
    }
  }
  nlohmann::ordered_json meta;
  meta["chainIds"] = chainIds;
  meta["readOnly"] = options.readOnly;
  // Written before mounting: from here on GC keeps the snapshots.
  BERTH_TRY(writeFileAtomic(dir / "mount.json", meta.dump(2) + "\n", 0600));
  Status mounted;
  if (options.readOnly && lowers.size() == 1) {
    // overlayfs wants two lower dirs when there is no upper.
    mounted = bindReadOnly(lowers[0], dir / "merged");
  } else if (options.api == OverlayApi::kAuto && kernelHasLowerdirPlus()) {
    mounted = mountWithFsconfig(lowers, dir, options.readOnly);
  } else {
    mounted = mountWithOptionString(relativeLowers, dir, options.readOnly);
  }
  if (!mounted) return std::unexpected(std::move(mounted).error().context("container " + id));
  cleanup.cancel();
  return ContainerMountInfo{
      .id = id, .chainIds = chainIds, .readOnly = options.readOnly, .merged = dir / "merged"};
}

Status ContainerMounts::remove(const std::string& id) {
  BERTH_TRY(validateId(id));
  auto dir = paths::container(root_, id);
  auto merged = dir / "merged";
  // Unmount every layer stacked on merged (a mount propagated twice shows twice).
  while (::umount2(merged.c_str(), UMOUNT_NOFOLLOW) == 0) {
  }
  if (errno == EBUSY) {
    if (::umount2(merged.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
      return failErrno("unmount " + merged.string());
    }
  } else if (errno != EINVAL && errno != ENOENT) {
    return failErrno("unmount " + merged.string());
  }
  return removeAll(dir);
}

Result<ContainerMountInfo> ContainerMounts::get(const std::string& id) const {
  BERTH_TRY(validateId(id));
  auto dir = paths::container(root_, id);
  auto text = readFile(dir / "mount.json");
  if (!text) {
    if (text.error().sysErrno() == ENOENT)
      return fail(Code::kNotFound, "container {} not found", id);
    return std::unexpected(text.error());
  }
  auto doc = BERTH_TRY_CTX(ocispec::parseDocument(*text), (dir / "mount.json").string());
  auto r = BERTH_TRY_CTX(ocispec::JsonReader::open(doc, ""), (dir / "mount.json").string());
  ContainerMountInfo out{.id = id, .merged = dir / "merged"};
  BERTH_TRY_CTX(r.required("chainIds", out.chainIds), (dir / "mount.json").string());
  BERTH_TRY_CTX(r.optional("readOnly", out.readOnly), (dir / "mount.json").string());
  return out;
}

Result<std::vector<ContainerMountInfo>> ContainerMounts::list() const {
  std::vector<ContainerMountInfo> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths::containersDir(root_), ec)) {
    auto info = get(e.path().filename().string());
    if (info) out.push_back(std::move(*info));
  }
  if (ec) return failErrno(ec.value(), "list " + paths::containersDir(root_).string());
  return out;
}

}  // namespace berth::images
