#include "runtime/ps.h"

#include <algorithm>
#include <sstream>

#include "common/spawn.h"

namespace berth::runtime {

Result<std::string> filterPsOutput(const std::string& out, const std::vector<pid_t>& pids) {
  std::istringstream lines(out);
  std::string header;
  std::getline(lines, header);
  std::istringstream h(header);
  std::string col;
  int pidIndex = -1;
  for (int i = 0; h >> col; ++i)
    if (col == "PID") pidIndex = i;
  if (pidIndex < 0) return fail(Code::kInvalidArgument, "couldn't find PID field in ps output");
  std::string result = header + "\n";
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string field;
    for (int i = 0; i <= pidIndex && f >> field; ++i) {
    }
    pid_t p = 0;
    try {
      p = static_cast<pid_t>(std::stol(field));
    } catch (...) {
      return fail(Code::kInvalidArgument, "unexpected pid '{}' in ps output", field);
    }
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) result += line + "\n";
  }
  return result;
}

Result<std::string> psTable(const std::vector<pid_t>& pids,
                            const std::vector<std::string>& psArgs) {
  SpawnOptions o;
  o.path = "ps";
  o.args = {"ps"};
  if (psArgs.empty())
    o.args.push_back("-ef");
  else
    o.args.insert(o.args.end(), psArgs.begin(), psArgs.end());
  o.captureStdout = true;
  auto r = BERTH_TRY_CTX(runProgram(o), "run ps");
  if (!r.status.success()) return fail(Code::kInternal, "ps exited with status {}", r.status.code);
  return filterPsOutput(r.stdoutData, pids);
}

}  // namespace berth::runtime
