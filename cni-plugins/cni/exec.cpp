#include "cni-plugins/cni/exec.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "cni-plugins/cni/config_json.h"
#include "common/spawn.h"

extern char** environ;

namespace berth::cni {

CniResult<std::string> findPlugin(const std::string& type, const std::string& cniPath) {
  if (type.empty() || type.find('/') != std::string::npos) {
    return cniFail(kInvalidNetworkConfig, "invalid plugin type \"{}\"", type);
  }
  std::stringstream dirs(cniPath);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + type;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return cniFail(kInternal, "failed to find plugin \"{}\" in path [{}]", type, cniPath);
}

CniResult<std::string> execPlugin(const ExecRequest& req) {
  SpawnOptions o;
  o.path = req.binary;
  o.args = {req.binary};
  std::vector<std::string> env;
  for (const auto& [k, v] : req.env)
    env.push_back(k + "=" + v);
  if (!req.env.contains("PATH")) {
    const char* path = std::getenv("PATH");
    env.push_back(std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"));
  }
  o.env = env;
  o.stdinData = req.stdinData;
  o.captureStdout = true;
  o.timeout = req.timeout;
  auto r = runProgram(o);
  if (!r) return cniFail(kInternal, "{}: {}", req.binary, r.error().message());
  if (r->status.success()) return r->stdoutData;
  auto j = Json::parse(r->stdoutData, nullptr, false);
  if (member(j, "code") != nullptr) return std::unexpected(CniError::fromJson(j));
  return cniFail(kInternal, "{} failed (exit {}): {}", req.binary, r->status.code,
                 r->stdoutData.empty() ? "no output" : r->stdoutData);
}

namespace {

std::map<std::string, std::string> callerEnv(const std::string& command) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  env["CNI_COMMAND"] = command;
  return env;
}

}  // namespace

CniResult<PluginResult> ipamAdd(const std::string& type, const std::string& conf) {
  auto env = callerEnv("ADD");
  auto bin = CNI_TRY(findPlugin(type, env["CNI_PATH"]));
  auto out = CNI_TRY(execPlugin({bin, env, conf}));
  auto j = Json::parse(out, nullptr, false);
  if (j.is_discarded()) return cniFail(kDecodeFailure, "{}: result is not JSON", type);
  return parseResult(j);
}

CniStatus ipamExec(const std::string& command, const std::string& type, const std::string& conf) {
  auto env = callerEnv(command);
  auto bin = CNI_TRY(findPlugin(type, env["CNI_PATH"]));
  CNI_TRY(execPlugin({bin, env, conf}));
  return {};
}

}  // namespace berth::cni
