#include "shim/cri_server.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "shim/host_info.h"
#include "shim/rpc_log.h"

namespace berth::cri {

namespace {

// containerd's CRI limits (defaults.DefaultMaxRecvMsgSize / SendMsgSize): 16 MiB.
constexpr int kMaxMessageBytes = 16 << 20;
constexpr mode_t kSocketMode = 0660;

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("cri");
  return log ? log : spdlog::default_logger();
}

// Removes a socket file nobody serves on; refuses a live one or a file that is not a socket.
Status clearStaleSocket(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return failErrno(fmt::format("stat {}", path.string()));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail(Code::kFailedPrecondition, "{} exists and is not a socket", path.string());
  }
  auto probe = connectUnix(path.string());
  if (probe) {
    return fail(Code::kFailedPrecondition, "another server is listening on {}", path.string());
  }
  if (probe.error().sysErrno() != ECONNREFUSED) return std::unexpected(std::move(probe).error());
  logger()->info("removing stale socket {}", path.string());
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return failErrno(fmt::format("remove stale socket {}", path.string()));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<CriServer>> CriServer::start(const CriConfig& config) {
  const std::filesystem::path& sock = config.listen;
  // sockaddr_un.sun_path: 108 bytes with the NUL. The temporary name must fit as well.
  std::filesystem::path tmp = sock.parent_path() / fmt::format(".cri-{}", ::getpid());
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (std::max(sock.native().size(), tmp.native().size()) > kMaxPath) {
    return fail(Code::kInvalidArgument,
                "socket path {} (or its temporary name {}) is longer than {} bytes", sock.string(),
                tmp.string(), kMaxPath);
  }
  BERTH_TRY(makeDirs(config.root, 0711));
  BERTH_TRY(makeDirs(config.state, 0711));
  BERTH_TRY(makeDirs(sock.parent_path(), 0711));

  std::filesystem::path lockPath = sock;
  lockPath += ".lock";
  auto lock = FileLock::tryLock(lockPath);
  if (!lock) {
    if (lock.error().code() == Code::kFailedPrecondition) {
      return fail(Code::kFailedPrecondition, "another berth-cri is serving on {} (it holds {})",
                  sock.string(), lockPath.string());
    }
    return std::unexpected(std::move(lock).error());
  }
  BERTH_TRY(clearStaleSocket(sock));

  EngineOptions engineOptions;
  engineOptions.monitorPath = config.monitorPath;
  engineOptions.podInitPath = config.podInitPath;
  engineOptions.host = BERTH_TRY_CTX(detectHostFacts(config.cgroupDriver), "inspect the host");
  engineOptions.host.appArmorEnabled = appArmorUsable(
      engineOptions.host.appArmorEnabled, config.disableAppArmor, engineOptions.appArmorParser);
  auto engine = BERTH_TRY_CTX(Engine::open(config, std::move(engineOptions)), "recover state");
  std::unique_ptr<CriServer> self(new CriServer(config, std::move(*lock), std::move(engine)));
  ::unlink(tmp.c_str());

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + tmp.string(), grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(&self->runtime_);
  builder.RegisterService(&self->images_);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RpcLogFactory>(logger()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // The socket is created with no access for others from the start; chmod below sets the
  // exact mode whatever the umask was.
  mode_t oldMask = ::umask(0117);
  self->server_ = builder.BuildAndStart();
  ::umask(oldMask);
  if (!self->server_) {
    ::unlink(tmp.c_str());
    return fail(Code::kUnavailable, "cannot listen on {}", tmp.string());
  }
  auto undo = defer([&] {
    self->server_->Shutdown();
    self->server_->Wait();
    self->server_.reset();
    ::unlink(tmp.c_str());
  });
  if (::chmod(tmp.c_str(), kSocketMode) < 0)
    return failErrno(fmt::format("chmod {}", tmp.string()));
  if (::rename(tmp.c_str(), sock.c_str()) < 0) {
    return failErrno(fmt::format("rename {} to {}", tmp.string(), sock.string()));
  }
  undo.cancel();
  return self;
}

void CriServer::shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  if (::unlink(config_.listen.c_str()) < 0 && errno != ENOENT) {
    logger()->warn("remove {}: {}", config_.listen.string(), std::strerror(errno));
  }
}

CriServer::~CriServer() {
  shutdown(std::chrono::milliseconds(0));
}

}  // namespace berth::cri
