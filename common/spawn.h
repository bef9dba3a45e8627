#pragma once
// Running helper programs (hooks, ps, peers in tests): argv/env vectors, optional stdin data, a
// timeout after which the program is killed.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"

namespace berth {

struct SpawnOptions {
  std::string path;                             // executable; searched in PATH when it has no '/'
  std::vector<std::string> args;                // argv, args[0] included
  std::optional<std::vector<std::string>> env;  // nullopt: inherit
  std::string stdinData;                        // written to the program's stdin, then closed
  bool captureStdout = false;
  bool captureStderr = false;
  std::optional<std::string> cwd;
  // Sends stdout and stderr (those not captured) to this file instead: for programs whose
  // children outlive them and would hold a capture pipe open.
  std::optional<std::string> outputFile;
  std::optional<std::chrono::milliseconds> timeout;
  // runProgram: called when the timeout expires, before the program is killed; the program then
  // has `timeoutGrace` to exit by itself (a runtime whose child onTimeout killed reaps it first).
  std::function<void()> onTimeout;
  std::chrono::milliseconds timeoutGrace{0};
  // startProgram only: fds that become the child's stdin/stdout/stderr (-1: /dev/null for
  // stdin, inherited or outputFile for the others), and more fds passed on as (ours, theirs).
  int stdinFd = -1;
  int stdoutFd = -1;
  int stderrFd = -1;
  std::vector<std::pair<int, int>> extraFds;
};

struct SpawnResult {
  ExitStatus status;
  std::string stdoutData;
  std::string stderrData;
};

// Runs the program to completion. A program that outlives its timeout is killed and the result is
// a kDeadlineExceeded error.
[[nodiscard]] Result<SpawnResult> runProgram(const SpawnOptions& options);

// Starts a long-running program (a daemon under test) and returns its owner; stdin is /dev/null,
// stdout/stderr go to `outputFile` or are inherited. Capture, stdinData and timeout are refused.
[[nodiscard]] Result<ChildProcess> startProgram(const SpawnOptions& options);

}  // namespace berth
