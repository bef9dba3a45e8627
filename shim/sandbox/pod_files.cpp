#include "shim/sandbox/pod_files.h"

#include <sys/mount.h>
#include <unistd.h>

#include "common/file_util.h"
#include "common/scope_guard.h"

namespace berth::shim {
namespace {

// Kubernetes' validation limits for pod DNS search paths.
constexpr std::size_t kMaxSearches = 32;
constexpr std::size_t kMaxSearchChars = 2048;

}  // namespace

Result<std::string> resolvConfFor(const DnsConfig& dns) {
  std::string out;
  std::size_t chars = 0;
  for (const auto& s : dns.searches)
    chars += s.size() + 1;
  if (dns.searches.size() > kMaxSearches)
    return fail(Code::kInvalidArgument, "dns_config.searches: {} domains, at most {}",
                dns.searches.size(), kMaxSearches);
  if (chars > kMaxSearchChars)
    return fail(Code::kInvalidArgument, "dns_config.searches: {} characters, at most {}", chars,
                kMaxSearchChars);
  for (const auto& list : {dns.servers, dns.searches, dns.options})
    for (const auto& item : list)
      if (item.empty() || item.find_first_of(" \t\n") != std::string::npos)
        return fail(Code::kInvalidArgument, "dns_config: \"{}\" is not a single word", item);
  if (!dns.searches.empty()) out += fmt::format("search {}\n", fmt::join(dns.searches, " "));
  for (const auto& s : dns.servers)
    out += fmt::format("nameserver {}\n", s);
  if (!dns.options.empty()) out += fmt::format("options {}\n", fmt::join(dns.options, " "));
  return out;
}

Result<PodFiles> setUpPodFiles(const PodFilesOptions& o) {
  if (o.hostname.empty() && !o.hostNetwork)
    return fail(Code::kInvalidArgument, "hostname: empty for a pod with its own UTS namespace");
  bool madeDir = !std::filesystem::exists(o.dir);
  BERTH_TRY(makeDirs(o.dir, 0711));
  auto rollback = defer([&] {
    (void)tearDownPodFiles(o.dir);
    if (madeDir) (void)removeAll(o.dir);
  });
  PodFiles f{o.dir / "hostname", o.dir / "hosts", o.dir / "resolv.conf", o.dir / "shm"};
  std::string hostname = o.hostname;
  if (hostname.empty()) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) < 0) return failErrno("gethostname");
    hostname = buf;
  }
  BERTH_TRY(writeFileAtomic(f.hostname, hostname + "\n", 0644));
  // /etc/hosts: the host's, as containerd copies it for every pod.
  std::string hosts = BERTH_TRY_CTX(readFile(o.hostHosts), "read the host's hosts file");
  BERTH_TRY(writeFileAtomic(f.hosts, hosts, 0644));
  std::string resolv;
  if (o.dns && (!o.dns->servers.empty() || !o.dns->searches.empty() || !o.dns->options.empty()))
    resolv = BERTH_TRY(resolvConfFor(*o.dns));
  else
    resolv = BERTH_TRY_CTX(readFile(o.hostResolvConf), "read the host's resolv.conf");
  BERTH_TRY(writeFileAtomic(f.resolvConf, resolv, 0644));
  if (o.hostIpc) {
    f.shm = "/dev/shm";
  } else {
    BERTH_TRY(makeDirs(f.shm, 0700));
    std::string data = fmt::format("mode=1777,size={}", o.shmSize);
    if (::mount("shm", f.shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data.c_str()) < 0)
      return failErrno(fmt::format("mount the pod's shm at {}", f.shm.string()));
  }
  rollback.cancel();
  return f;
}

Status tearDownPodFiles(const std::filesystem::path& dir) {
  auto shm = dir / "shm";
  if (::umount2(shm.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return failErrno(fmt::format("unmount {}", shm.string()));
  for (const char* name : {"shm", "hostname", "hosts", "resolv.conf"}) {
    auto p = dir / name;
    if (::remove(p.c_str()) < 0 && errno != ENOENT)
      return failErrno(fmt::format("remove {}", p.string()));
  }
  return {};
}

}  // namespace berth::shim
