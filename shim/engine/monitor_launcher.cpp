#include "shim/engine/monitor_launcher.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/spawn.h"

namespace berth::cri {

namespace {

// The fd number the sync pipe gets in the monitor.
constexpr int kSyncFd = 3;

Result<std::string> readToEof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failErrno("read berth-monitor's sync pipe");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<pid_t> launchMonitor(const MonitorLaunch& l) {
  auto [syncRead, syncWrite] = BERTH_TRY(makePipe());
  SpawnOptions o;
  o.path = l.monitorPath.string();
  o.args = {o.path,
            "--id",
            l.id,
            "--bundle",
            l.bundle.string(),
            "--runtime",
            l.runtimePath,
            "--log-path",
            l.logPath.string(),
            "--exit-file",
            l.exitFile.string(),
            "--socket-dir",
            l.socketDir.string(),
            "--sync-fd",
            std::to_string(kSyncFd)};
  for (const auto& a : l.runtimeArgs)
    o.args.push_back("--runtime-arg=" + a);
  if (l.terminal) o.args.push_back("--terminal");
  if (l.stdin) o.args.push_back("--stdin");
  if (l.stdinOnce) o.args.push_back("--stdin-once");
  o.outputFile = l.monitorLog.string();
  o.extraFds = {{syncWrite.get(), kSyncFd}};
  auto child = BERTH_TRY_CTX(startProgram(o), "start berth-monitor");
  syncWrite.reset();
  // The first process forks the monitor off and exits at once.
  auto first = BERTH_TRY(child.wait());
  std::string report = BERTH_TRY(readToEof(syncRead.get()));
  if (report.empty()) {
    auto log = readFile(l.monitorLog);
    return fail(Code::kInternal, "berth-monitor exited with status {} before reporting: {}",
                first.code, log ? *log : std::string("(no log)"));
  }
  auto j = nlohmann::json::parse(report, nullptr, false);
  if (j.is_object() && j.contains("pid") && j["pid"].is_number_integer()) {
    return static_cast<pid_t>(j["pid"].get<int>());
  }
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return fail(Code::kInternal, "{}", j["error"].get<std::string>());
  }
  return fail(Code::kInternal, "berth-monitor sent an unreadable report: {}", report);
}

}  // namespace berth::cri
