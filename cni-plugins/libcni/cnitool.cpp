// berth-cnitool: the runtime library from the command line (cnitool's verbs), for operators and
// tests: the first valid network in --conf-dir, run with the plugins in --bin-dir.
//   berth-cnitool add|check|del <containerID> <netns path> [ifname]
//   berth-cnitool status
//   berth-cnitool gc [<containerID>/<ifname> ...]      (the attachments that are still valid)
// CAP_ARGS (JSON) and CNI_ARGS ("K=V;...") come from the environment, as with cnitool.
#include <cstdio>
#include <cstdlib>

#include "cni-plugins/libcni/libcni.h"
#include "common/command_line.h"

using namespace berth::cni;

int main(int argc, char** argv) {
  CLI::App app{"berth-cnitool: run a CNI network configuration list"};
  std::string confDir = "/etc/cni/net.d", cacheDir = "/var/lib/cni";
  std::vector<std::string> binDirs;
  std::string verb;
  std::vector<std::string> rest;
  int timeoutSec = 60;
  app.add_option("--conf-dir", confDir, "directory of .conf/.conflist files");
  app.add_option("--bin-dir", binDirs, "plugin directory (repeatable)");
  app.add_option("--cache-dir", cacheDir, "result cache root");
  app.add_option("--timeout", timeoutSec, "seconds per plugin");
  app.add_option("verb", verb, "add, check, del, status, gc")
      ->required()
      ->check(CLI::IsMember({"add", "check", "del", "status", "gc"}));
  app.add_option("args", rest, "containerID netns [ifname] | attachments");
  if (auto exit = berth::parseCommandLine(app, argc, argv)) return *exit;

  CniRuntime::Options o;
  if (!binDirs.empty()) o.binDirs = binDirs;
  o.cacheDir = cacheDir;
  o.timeout = std::chrono::seconds(timeoutSec);
  CniRuntime cni(o);
  auto fail = [](const CniError& e) {
    std::printf("%s\n", e.toJson(std::string(kCurrentVersion)).dump(4).c_str());
    return 1;
  };
  auto list = loadDefaultNetwork(confDir);
  if (!list) return fail(list.error());

  if (verb == "status") {
    auto s = cni.status(*list);
    return s ? 0 : fail(s.error());
  }
  if (verb == "gc") {
    std::vector<Attachment> valid;
    for (const auto& a : rest) {
      auto slash = a.find('/');
      valid.push_back(
          {a.substr(0, slash), slash == std::string::npos ? "eth0" : a.substr(slash + 1)});
    }
    auto s = cni.gc(*list, valid);
    return s ? 0 : fail(s.error());
  }
  if (rest.size() < 2) {
    std::fprintf(stderr, "berth-cnitool: %s needs <containerID> <netns> [ifname]\n", verb.c_str());
    return 2;
  }
  RuntimeConf rt;
  rt.containerID = rest[0];
  rt.netns = rest[1];
  if (rest.size() > 2) rt.ifName = rest[2];
  if (const char* caps = std::getenv("CAP_ARGS")) {
    rt.capabilityArgs = Json::parse(caps, nullptr, false);
    if (!rt.capabilityArgs.is_object())
      return fail({kDecodeFailure, "CAP_ARGS: not a JSON object", ""});
  }
  if (const char* args = std::getenv("CNI_ARGS")) {
    auto parsed = parseCniArgs(args);
    if (!parsed) return fail(parsed.error());
    for (const auto& kv : *parsed)
      rt.args.push_back(kv);
  }
  if (verb == "add") {
    auto r = cni.add(*list, rt);
    if (!r) return fail(r.error());
    auto j = resultToJson(*r, list->cniVersion);
    if (!j) return fail(j.error());
    std::printf("%s\n", j->dump(4).c_str());
    return 0;
  }
  CniStatus s = verb == "del"     ? cni.del(*list, rt)
                : verb == "check" ? cni.check(*list, rt)
                                  : cniFail(kInvalidEnvironment, "unknown verb \"{}\"", verb);
  return s ? 0 : fail(s.error());
}
