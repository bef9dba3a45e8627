#include "runtime/cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <seccomp.h>
#include <CLI/CLI.hpp>

#include "common/command_line.h"
#include "common/file_util.h"
#include "common/log.h"
#include "ocispec/spec_json.h"
#include "runtime/cgroup_manager.h"
#include "runtime/default_spec.h"
#include "runtime/events.h"
#include "runtime/foreground.h"
#include "runtime/lifecycle.h"
#include "runtime/ps.h"
#include "runtime/signals.h"

namespace berth::runtime {

namespace {

struct Cli {
  GlobalOptions global;
  std::string logPath;
  std::string logFormat = "text";
  bool debug = false;
  bool rootlessFlag = false;
  std::string criu;
};

// Prints the error as runc does: to the log (stderr unless --log), and also plainly to stderr
// when the log goes to a file.
int reportError(const Cli& cli, const Error& e) {
  spdlog::error("{}", e.message());
  if (!cli.logPath.empty()) std::fprintf(stderr, "%s\n", e.message().c_str());
  return 1;
}

std::string formatState(const ContainerRecord& r, ContainerStatus status, bool forList,
                        int indent) {
  nlohmann::ordered_json j;
  j["ociVersion"] = ocispec::kOciVersion;
  j["id"] = r.id;
  j["pid"] = status == ContainerStatus::kStopped ? 0 : r.pid;
  j["status"] = statusName(status);
  j["bundle"] = r.bundle;
  j["rootfs"] = r.rootfs;
  j["created"] = r.created;
  if (!r.annotations.empty()) j["annotations"] = r.annotations;
  j["owner"] = forList ? "root" : "";
  return j.dump(indent);
}

// Go's text/tabwriter with minwidth 12, padding 3, as `runc list` uses it.
std::string tabulate(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size())
        out += std::string(std::max<size_t>(12, widths[i] + 3) - row[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

void addCreateFlags(CLI::App* cmd, CreateOptions& o) {
  cmd->add_option("--bundle,-b", o.bundle, "path to the root of the bundle directory");
  cmd->add_option("--console-socket", o.consoleSocket,
                  "path to an AF_UNIX socket which will receive the pty master");
  cmd->add_option("--pid-file", o.pidFile, "file to write the process id to");
  cmd->add_flag("--no-pivot", o.noPivot, "do not use pivot_root to jail the container");
  cmd->add_flag("--no-new-keyring", o.noNewKeyring, "do not create a new session keyring");
  cmd->add_option("--preserve-fds", o.preserveFds, "pass N additional file descriptors");
  cmd->add_option("container-id", o.id, "container id")->required();
}

Result<int> runForeground(Lifecycle& lc, CreateOptions o, bool detach, bool keep) {
  o.ownTerminal = !detach;
  o.startHere = true;
  if (!detach) blockForwardedSignals();
  Created c = BERTH_TRY(lc.create(o));
  auto started = lc.startCreated(c);
  if (!started) {
    c.init.killAndReap();
    (void)lc.destroy(c.record, &c.spec);
    return std::unexpected(started.error());
  }
  if (detach) {
    (void)c.init.release();
    return 0;
  }
  auto status = BERTH_TRY(superviseForeground(c.init, c.ptyMaster ? c.ptyMaster.get() : -1));
  if (!keep) BERTH_TRY(lc.destroy(c.record, &c.spec));
  return status.code;
}

// docker's units.RAMInBytes: "-1", "1024", "10k", "50M", "1g", "2GiB" (1024-based).
Result<int64_t> parseBytes(const std::string& flag, const std::string& text) {
  auto bad = [&] { return fail(Code::kInvalidArgument, "{}: invalid size \"{}\"", flag, text); };
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return bad();
  double value = 0;
  try {
    value = std::stod(text.substr(0, i));
  } catch (...) {
    return bad();
  }
  std::string unit;
  for (char c : text.substr(i))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  const std::string units = "kmgtp";
  double mult = 1;
  if (!unit.empty()) {
    auto pos = units.find(unit);
    if (unit.size() != 1 || pos == std::string::npos) return bad();
    for (size_t k = 0; k <= pos; ++k)
      mult *= 1024;
  }
  return static_cast<int64_t>(value * mult);
}

// Go's time.ParseDuration for the units runc users pass: "5s", "100ms", "1m", "1.5s".
Result<std::chrono::milliseconds> parseDuration(const std::string& flag, const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double value = 0;
  try {
    value = std::stod(text.substr(0, i));
  } catch (...) {
    return fail(Code::kInvalidArgument, "{}: invalid duration \"{}\"", flag, text);
  }
  std::string unit = text.substr(i);
  double ms = unit == "ms"  ? value
              : unit == "s" ? value * 1000
              : unit == "m" ? value * 60000
              : unit == "h" ? value * 3600000
                            : -1;
  if (ms <= 0) return fail(Code::kInvalidArgument, "{}: invalid duration \"{}\"", flag, text);
  return std::chrono::milliseconds(static_cast<long>(ms));
}

// `update -r`: a LinuxResources JSON document, from a file or stdin ("-"), validated like the
// linux.resources of a config so errors name the field.
Result<ocispec::Resources> loadResources(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    text = BERTH_TRY(readFile(path));
  }
  auto spec = BERTH_TRY_CTX(
      ocispec::parseSpec(R"({"ociVersion":"1.0.0","linux":{"resources":)" + text + "}}"),
      "resources " + path);
  return spec.linux->resources.value_or(ocispec::Resources{});
}

Result<ocispec::Process> loadProcessFile(const std::string& path) {
  auto text = BERTH_TRY(readFile(path));
  return withContext(ocispec::parseProcess(text), path);
}

}  // namespace

int runCli(int argc, char** argv) {
  Cli cli;
  CLI::App app{"berth-runtime: an OCI runtime with runc's command line", "berth-runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version,-v", [] {
    const scmp_version* v = seccomp_version();
    return fmt::format("berth-runtime version {}\nspec: {}\nlibseccomp: {}.{}.{}", BERTH_VERSION,
                       ocispec::kOciVersion, v->major, v->minor, v->micro);
  });
  app.add_option("--root", cli.global.root, "root directory for storage of container state");
  app.add_option("--log", cli.logPath, "log file path (default: stderr)");
  app.add_option("--log-format", cli.logFormat, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", cli.debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", cli.global.systemdCgroup,
               "use systemd for cgroups (cgroupsPath slice:prefix:name)");
  app.add_option("--criu", cli.criu, "ignored: checkpoint/restore is not supported");
  app.add_option("--rootless", cli.rootlessFlag, "ignored: rootless mode is chosen automatically")
      ->expected(0, 1);

  int exitCode = 0;
  int errorExit = 1;
  std::optional<Error> error;
  auto run = [&](auto&& body) {
    return [&, body] {
      setupLogging({"runtime", cli.logPath,
                    cli.logFormat == "json" ? LogFormat::kLogrusJson : LogFormat::kLogrusText,
                    cli.debug ? spdlog::level::debug : spdlog::level::info});
      Lifecycle lc(cli.global);
      Result<int> r = body(lc);
      if (r)
        exitCode = *r;
      else
        error = r.error();
    };
  };

  // spec
  std::string specBundle;
  bool specRootless = false;
  auto* spec = app.add_subcommand("spec", "create a new specification file");
  spec->add_option("--bundle,-b", specBundle, "path to the root of the bundle directory");
  spec->add_flag("--rootless", specRootless, "generate a configuration for a rootless container");
  spec->callback(run([&](Lifecycle&) -> Result<int> {
    std::filesystem::path p = std::filesystem::path(specBundle.empty() ? "." : specBundle);
    p /= "config.json";
    if (std::filesystem::exists(p))
      return fail(Code::kAlreadyExists, "File {} exists. Remove it first", p.string());
    BERTH_TRY(writeFile(p, defaultSpec(specRootless).dump(1, '\t'), 0666));
    return 0;
  }));

  // create
  CreateOptions createOpts;
  auto* create = app.add_subcommand("create", "create a container");
  addCreateFlags(create, createOpts);
  create->callback(run([&](Lifecycle& lc) -> Result<int> {
    Created c = BERTH_TRY(lc.create(createOpts));
    (void)c.init.release();
    return 0;
  }));

  // run
  CreateOptions runOpts;
  bool runDetach = false, runKeep = false;
  auto* runCmd = app.add_subcommand("run", "create and run a container");
  addCreateFlags(runCmd, runOpts);
  runCmd->add_flag("--detach,-d", runDetach, "detach from the container's process");
  runCmd->add_flag("--keep", runKeep, "do not delete the container after it exits");
  runCmd->callback(
      run([&](Lifecycle& lc) { return runForeground(lc, runOpts, runDetach, runKeep); }));

  // start
  std::string startId;
  auto* start =
      app.add_subcommand("start", "executes the user defined process in a created container");
  start->add_option("container-id", startId)->required();
  start->callback(run([&](Lifecycle& lc) -> Result<int> {
    BERTH_TRY(lc.start(startId));
    return 0;
  }));

  // state
  std::string stateId;
  auto* state = app.add_subcommand("state", "output the state of a container");
  state->add_option("container-id", stateId)->required();
  state->callback(run([&](Lifecycle& lc) -> Result<int> {
    auto [record, status] = BERTH_TRY(lc.lookup(stateId));
    std::fputs(formatState(record, status, false, 2).c_str(), stdout);
    return 0;
  }));

  // list
  std::string listFormat = "table";
  bool listQuiet = false;
  auto* list = app.add_subcommand("list", "lists containers started by runc with the given root");
  list->alias("ls");
  list->add_option("--format,-f", listFormat, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  list->add_flag("--quiet,-q", listQuiet, "display only container IDs");
  list->callback(run([&](Lifecycle& lc) -> Result<int> {
    std::vector<std::pair<ContainerRecord, ContainerStatus>> all;
    for (const auto& id : BERTH_TRY(lc.store().ids())) {
      auto found = lc.lookup(id);
      if (found) all.push_back(std::move(*found));
    }
    if (listQuiet) {
      for (const auto& [r, s] : all)
        std::printf("%s\n", r.id.c_str());
    } else if (listFormat == "json") {
      // runc encodes a nil slice: "null" when there are no containers.
      std::string out = "[";
      for (size_t i = 0; i < all.size(); ++i)
        out += (i ? "," : "") + formatState(all[i].first, all[i].second, true, -1);
      out += "]";
      std::printf("%s\n", all.empty() ? "null" : out.c_str());
    } else {
      std::vector<std::vector<std::string>> rows{
          {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
      for (const auto& [r, s] : all)
        rows.push_back({r.id, std::to_string(s == ContainerStatus::kStopped ? 0 : r.pid),
                        std::string(statusName(s)), r.bundle, r.created, "root"});
      std::fputs(tabulate(rows).c_str(), stdout);
    }
    return 0;
  }));

  // kill
  std::string killId, killSignal = "SIGTERM";
  bool killAll = false;
  auto* killCmd =
      app.add_subcommand("kill", "kill sends the specified signal to the container's init process");
  killCmd->add_option("container-id", killId)->required();
  killCmd->add_option("signal", killSignal);
  killCmd->add_flag("--all,-a", killAll,
                    "send the specified signal to all processes inside the container");
  killCmd->callback(run([&](Lifecycle& lc) -> Result<int> {
    int sig = BERTH_TRY(parseSignal(killSignal));
    BERTH_TRY(lc.kill(killId, sig, killAll));
    return 0;
  }));

  // delete
  std::string deleteId;
  bool deleteForce = false;
  auto* del = app.add_subcommand("delete", "delete any resources held by the container");
  del->alias("rm");
  del->add_option("container-id", deleteId)->required();
  del->add_flag("--force,-f", deleteForce, "forcibly delete the container if it is still running");
  del->callback(run([&](Lifecycle& lc) -> Result<int> {
    BERTH_TRY(lc.remove(deleteId, deleteForce));
    return 0;
  }));

  // pause / resume
  std::string pauseId, resumeId;
  auto* pauseCmd = app.add_subcommand("pause", "pause suspends all processes inside the container");
  pauseCmd->add_option("container-id", pauseId)->required();
  pauseCmd->callback(run([&](Lifecycle& lc) -> Result<int> {
    BERTH_TRY(lc.pause(pauseId, true));
    return 0;
  }));
  auto* resumeCmd =
      app.add_subcommand("resume", "resumes all processes that have been previously paused");
  resumeCmd->add_option("container-id", resumeId)->required();
  resumeCmd->callback(run([&](Lifecycle& lc) -> Result<int> {
    BERTH_TRY(lc.pause(resumeId, false));
    return 0;
  }));

  // ps
  std::string psFormat = "table";
  auto* ps = app.add_subcommand("ps", "ps displays the processes running inside a container");
  ps->add_option("--format,-f", psFormat, "table or json")->check(CLI::IsMember({"table", "json"}));
  ps->prefix_command();
  ps->callback(run([&](Lifecycle& lc) -> Result<int> {
    auto rest = ps->remaining();
    if (rest.empty()) return fail(Code::kInvalidArgument, "ps: container-id is required");
    std::string id = rest[0];
    rest.erase(rest.begin());
    auto [record, status] = BERTH_TRY(lc.lookup(id));
    auto cg =
        CgroupManager::fromPaths(record.cgroupUnified, record.cgroupPaths, record.systemdCgroup);
    auto pids = BERTH_TRY(cg.pids());
    if (psFormat == "json") {
      if (!rest.empty())
        return fail(Code::kInvalidArgument, "ps: options are not allowed with json format");
      std::printf("%s\n", nlohmann::json(pids).dump().c_str());
      return 0;
    }
    std::fputs(BERTH_TRY(psTable(pids, rest)).c_str(), stdout);
    return 0;
  }));

  // exec
  ExecOptions execOpts;
  std::string processFile;
  std::vector<std::string> additionalGids;
  auto* execCmd = app.add_subcommand("exec", "execute new process inside the container");
  execCmd->add_option("--console-socket", execOpts.consoleSocket);
  execCmd->add_option("--cwd", execOpts.cwd, "current working directory in the container");
  execCmd->add_option("--env,-e", execOpts.env, "set environment variables")
      ->take_all()
      ->allow_extra_args(false);
  execCmd->add_flag("--tty,-t", execOpts.tty, "allocate a pseudo-TTY");
  execCmd->add_option("--user,-u", execOpts.user, "UID (format: <uid>[:<gid>])");
  execCmd->add_option("--additional-gids,-g", additionalGids, "additional gids")
      ->allow_extra_args(false);
  execCmd->add_option("--process,-p", processFile, "path to the process.json");
  execCmd->add_flag("--detach,-d", execOpts.detach, "detach from the container's process");
  execCmd->add_option("--pid-file", execOpts.pidFile, "file to write the process id to");
  execCmd->add_option("--process-label", "ignored: SELinux is not supported");
  execCmd->add_option("--apparmor", "ignored: AppArmor is not supported");
  execCmd->add_flag("--no-new-privs", execOpts.noNewPrivs,
                    "set the no new privileges value for the process");
  execCmd
      ->add_option("--cap,-c", execOpts.caps,
                   "add a capability to the bounding set for the process")
      ->allow_extra_args(false);
  execCmd->add_option("--cgroup", execOpts.cgroups, "run in a sub-cgroup: [controller:]path")
      ->allow_extra_args(false);
  execCmd->add_flag("--ignore-paused", execOpts.ignorePaused, "allow exec in a paused container");
  execCmd->add_option("--preserve-fds", execOpts.preserveFds, "pass N additional file descriptors");
  execCmd->prefix_command();
  execCmd->callback(run([&](Lifecycle& lc) -> Result<int> {
    auto rest = execCmd->remaining();
    if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
    if (rest.empty()) return fail(Code::kInvalidArgument, "exec: container-id is required");
    execOpts.id = rest[0];
    execOpts.args.assign(rest.begin() + 1, rest.end());
    if (!execOpts.args.empty() && execOpts.args[0] == "--")
      execOpts.args.erase(execOpts.args.begin());
    for (const auto& g : additionalGids) {
      try {
        execOpts.additionalGids.push_back(static_cast<uint32_t>(std::stoul(g)));
      } catch (...) {
        return fail(Code::kInvalidArgument, "additional-gids: \"{}\" is not a number", g);
      }
    }
    // runc: a failed exec exits 255, so callers can tell it from the process' own status.
    errorExit = 255;
    if (!processFile.empty())
      execOpts.process = BERTH_TRY_CTX(loadProcessFile(processFile), "exec failed");
    else if (execOpts.args.empty())
      return fail(Code::kInvalidArgument, "exec failed: arguments are required");
    return withContext(lc.exec(execOpts), "exec failed");
  }));

  // checkpoint / restore: criu-based, not provided; say so instead of "unknown command".
  for (const char* name : {"checkpoint", "restore"}) {
    auto* cmd = app.add_subcommand(name, std::string(name) + " a running container (criu)");
    cmd->allow_extras();
    cmd->callback(run([name](Lifecycle&) -> Result<int> {
      return fail(Code::kUnimplemented, "{} is not supported by berth-runtime", name);
    }));
  }

  // events
  std::string eventsId, eventsInterval = "5s";
  bool eventsStats = false;
  auto* events = app.add_subcommand(
      "events",
      "display container events such as OOM notifications, cpu, memory, and IO usage statistics");
  events->add_option("container-id", eventsId)->required();
  events->add_flag("--stats", eventsStats, "display the container's stats then exit");
  events->add_option("--interval", eventsInterval, "the interval for collecting stats (5s)");
  events->callback(run([&](Lifecycle& lc) -> Result<int> {
    auto [record, status] = BERTH_TRY(lc.lookup(eventsId));
    if (status == ContainerStatus::kStopped)
      return fail(Code::kFailedPrecondition, "container with id {} is not running", eventsId);
    auto cg =
        CgroupManager::fromPaths(record.cgroupUnified, record.cgroupPaths, record.systemdCgroup);
    if (eventsStats) {
      std::printf("%s\n", statsEvent(eventsId, cg).c_str());
      return 0;
    }
    auto interval = BERTH_TRY(parseDuration("--interval", eventsInterval));
    BERTH_TRY(streamEvents(eventsId, record.pid, cg, interval));
    return 0;
  }));

  // update
  UpdateOptions updateOpts;
  std::string resourcesFile;
  std::map<std::string, std::string> sizeFlags;  // flags that take sizes with units
  auto* update = app.add_subcommand("update", "update container resource constraints");
  update->add_option("container-id", updateOpts.id)->required();
  update->add_option("--resources,-r", resourcesFile,
                     "path to a file with the resources to update, or '-' for stdin");
  for (const char* name : {"--memory", "--memory-reservation", "--memory-swap", "--kernel-memory",
                           "--kernel-memory-tcp"})
    update->add_option_function<std::string>(
        name, [&sizeFlags, name](const std::string& v) { sizeFlags[name] = v; }, "size");
  update->add_option("--cpu-share", updateOpts.cpuShares, "CPU shares (relative weight)");
  update->add_option("--cpu-period", updateOpts.cpuPeriod, "CPU CFS period in microseconds");
  update->add_option("--cpu-quota", updateOpts.cpuQuota, "CPU CFS quota in microseconds");
  update->add_option("--cpu-rt-period", updateOpts.cpuRtPeriod, "CPU realtime period");
  update->add_option("--cpu-rt-runtime", updateOpts.cpuRtRuntime, "CPU realtime runtime");
  update->add_option("--cpuset-cpus", updateOpts.cpusetCpus, "CPUs to use");
  update->add_option("--cpuset-mems", updateOpts.cpusetMems, "memory nodes to use");
  update->add_option("--cpu-idle", updateOpts.cpuIdle, "SCHED_IDLE for the cgroup (0 or 1)");
  update->add_option("--pids-limit", updateOpts.pidsLimit, "maximum number of pids");
  update->add_option("--blkio-weight", updateOpts.blkioWeight, "block IO weight (10 to 1000)");
  update->callback(run([&](Lifecycle& lc) -> Result<int> {
    if (!resourcesFile.empty()) updateOpts.resources = BERTH_TRY(loadResources(resourcesFile));
    for (const auto& [flag, value] : sizeFlags) {
      int64_t bytes = BERTH_TRY(parseBytes(flag, value));
      if (flag == "--memory")
        updateOpts.memory = bytes;
      else if (flag == "--memory-reservation")
        updateOpts.memoryReservation = bytes;
      else if (flag == "--memory-swap")
        updateOpts.memorySwap = bytes;
      else if (flag == "--kernel-memory")
        updateOpts.kernelMemory = bytes;
      else
        updateOpts.kernelMemoryTCP = bytes;
    }
    BERTH_TRY(lc.update(updateOpts));
    return 0;
  }));

  // features
  auto* features = app.add_subcommand("features", "show the enabled features");
  features->callback(run([&](Lifecycle&) -> Result<int> {
    std::printf("%s\n", featuresDocument().dump(4).c_str());
    return 0;
  }));

  if (auto exit = parseCommandLine(app, argc, argv)) return *exit;
  if (error) {
    reportError(cli, *error);
    return errorExit;
  }
  return exitCode;
}

}  // namespace berth::runtime
