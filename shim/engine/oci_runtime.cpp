#include "shim/engine/oci_runtime.h"

#include <signal.h>

#include <cstring>

#include "common/file_util.h"

namespace berth::cri {

namespace {

// How long a runtime verb other than exec may take before it is killed (containerd gives its
// shim calls no deadline of their own but the kubelet's 2 minutes; these verbs take milliseconds).
constexpr std::chrono::seconds kVerbTimeout(60);

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

// runc and crun say "does not exist" / "not found" for an unknown container; berth-runtime too.
bool saysNotFound(const std::string& err) {
  return err.find("does not exist") != std::string::npos ||
         err.find("not found") != std::string::npos ||
         err.find("No such file or directory") != std::string::npos;
}

}  // namespace

OciRuntime::OciRuntime(std::string name, const RuntimeHandler& handler, CgroupDriver driver)
    : name_(std::move(name)), path_(handler.path) {
  globalArgs_ = {"--root", handler.root.string()};
  if (driver == CgroupDriver::kSystemd) globalArgs_.push_back("--systemd-cgroup");
}

Status OciRuntime::run(std::vector<std::string> args, const std::string& what,
                       std::string stdinData) const {
  SpawnOptions o;
  o.path = path_;
  o.args = {path_};
  o.args.insert(o.args.end(), globalArgs_.begin(), globalArgs_.end());
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.stdinData = std::move(stdinData);
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = kVerbTimeout;
  auto r = BERTH_TRY_CTX(runProgram(o), fmt::format("{} {}", name_, what));
  if (r.status.success()) return {};
  std::string err = trimmed(r.stderrData.empty() ? r.stdoutData : r.stderrData);
  return fail(saysNotFound(err) ? Code::kNotFound : Code::kInternal, "{} {}: {}", name_, what,
              err.empty() ? fmt::format("exit status {}", r.status.code) : err);
}

Status OciRuntime::start(const std::string& id) const {
  return run({"start", id}, "start " + id);
}

Status OciRuntime::kill(const std::string& id, int signal, bool all) const {
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.push_back(id);
  args.push_back(std::to_string(signal));
  auto r = run(std::move(args), fmt::format("kill {} {}", id, signal));
  // Killing what is gone is not an error for us: the caller waits for the exit record.
  if (!r && (r.error().code() == Code::kNotFound ||
             r.error().message().find("not running") != std::string::npos ||
             r.error().message().find("process already finished") != std::string::npos)) {
    return {};
  }
  return r;
}

Status OciRuntime::remove(const std::string& id) const {
  auto r = run({"delete", "--force", id}, "delete " + id);
  if (!r && r.error().code() == Code::kNotFound) return {};
  return r;
}

Status OciRuntime::update(const std::string& id, const std::string& resourcesJson) const {
  return run({"update", "--resources", "-", id}, "update " + id, resourcesJson);
}

SpawnOptions OciRuntime::execOptions(const ExecArgs& a) const {
  SpawnOptions o;
  o.path = path_;
  o.args = {path_};
  o.args.insert(o.args.end(), globalArgs_.begin(), globalArgs_.end());
  o.args.insert(o.args.end(), {"exec", "--process", a.processFile, "--pid-file", a.pidFile});
  if (!a.consoleSocket.empty()) {
    o.args.insert(o.args.end(), {"--tty", "--console-socket", a.consoleSocket});
  }
  o.args.push_back(a.id);
  return o;
}

Result<ChildProcess> OciRuntime::startExec(const ExecArgs& a) const {
  SpawnOptions o = execOptions(a);
  o.stdinFd = a.stdio.stdinFd;
  o.stdoutFd = a.stdio.stdoutFd;
  o.stderrFd = a.stdio.stderrFd;
  return withContext(startProgram(o), fmt::format("{} exec {}", name_, a.id));
}

Result<SpawnResult> OciRuntime::runExec(const ExecArgs& a,
                                        std::optional<std::chrono::milliseconds> timeout) const {
  SpawnOptions o = execOptions(a);
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = timeout;
  // The command first (from the runtime's pid file): the runtime, its parent, then reaps it and
  // exits, so no zombie of it is left in the container when the RPC answers (containerd waits
  // for the exec process too).
  o.onTimeout = [&] {
    auto pid = readFile(a.pidFile);
    pid_t p = pid ? static_cast<pid_t>(std::strtol(pid->c_str(), nullptr, 10)) : 0;
    if (p > 0) ::kill(p, SIGKILL);
  };
  o.timeoutGrace = std::chrono::seconds(5);
  auto r = runProgram(o);
  if (!r && r.error().code() == Code::kDeadlineExceeded) {
    return fail(Code::kDeadlineExceeded, "command timed out after {}ms",
                timeout ? timeout->count() : 0);
  }
  return withContext(std::move(r), fmt::format("{} exec {}", name_, a.id));
}

}  // namespace berth::cri
