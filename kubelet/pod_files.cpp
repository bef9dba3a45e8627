#include "kubelet/pod_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/unique_fd.h"
#include "kubeapi/json_fields.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;

constexpr std::size_t kMaxTerminationMessageBytes = 4096;

}  // namespace

std::string managedHostsFile(const Json& pod, const std::vector<std::string>& podIps,
                             const std::string& hostname, const std::string& clusterDomain) {
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  const Json& spec = jsonField(pod, "spec");
  const std::string subdomain = jsonString(spec, "subdomain");
  const std::string ns = jsonString(jsonField(pod, "metadata"), "namespace");
  for (const auto& ip : podIps) {
    if (subdomain.empty()) {
      out += fmt::format("{}\t{}\n", ip, hostname);
    } else {
      out += fmt::format("{}\t{}.{}.{}.svc.{}\t{}\n", ip, hostname, subdomain, ns, clusterDomain,
                         hostname);
    }
  }
  const Json& aliases = jsonArray(spec, "hostAliases");
  if (!aliases.empty()) {
    out += "\n# Entries added by HostAliases.\n";
    for (const Json& a : aliases) {
      std::string line = jsonString(a, "ip");
      for (const Json& h : jsonArray(a, "hostnames"))
        line += "\t" + h.get<std::string>();
      out += line + "\n";
    }
  }
  return out;
}

Result<std::string> writeEtcHosts(const volume::KubeletPaths& paths, const Json& pod,
                                  const std::vector<std::string>& podIps,
                                  const std::string& hostname, const std::string& clusterDomain) {
  const std::string uid = jsonString(jsonField(pod, "metadata"), "uid");
  BERTH_TRY(volume::checkPathComponent("pod UID", uid));
  auto path = paths.etcHosts(uid);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return fail(Code::kInternal, "creating {}: {}", path.parent_path().string(), ec.message());
  BERTH_TRY(writeFileAtomic(path, managedHostsFile(pod, podIps, hostname, clusterDomain), 0644));
  return path.string();
}

Result<std::string> makeTerminationLogFile(const volume::KubeletPaths& paths,
                                           const std::string& podUid,
                                           const std::string& containerName) {
  BERTH_TRY(volume::checkPathComponent("pod UID", podUid));
  BERTH_TRY(volume::checkPathComponent("container name", containerName));
  auto dir = paths.containersDir(podUid) / containerName;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Code::kInternal, "creating {}: {}", dir.string(), ec.message());
  std::random_device rd;
  auto path = dir / fmt::format("{:08x}", rd());
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666));
  if (!fd) return failErrno(errno, "creating " + path.string());
  // The umask took bits away; the container's user, whoever it is, must be able to write.
  if (::fchmod(fd.get(), 0666) != 0) return failErrno(errno, "chmod " + path.string());
  return path.string();
}

std::string readTerminationMessage(const std::string& path) {
  if (path.empty()) return {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return {};
  std::string buf(kMaxTerminationMessageBytes, '\0');
  ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return buf;
}

}  // namespace berth::kubelet
