#pragma once
// berth-monitor's core: runs the OCI runtime's `create` with the container's stdio held here,
// then relays output to the CRI log and attach clients, input from attach clients, control
// requests, and records the init's exit (conmon's and containerd-shim's job for one container).
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/monitor/container_stdio.h"
#include "shim/monitor/cri_log.h"
#include "shim/monitor/exit_record.h"
#include "shim/monitor/packet_server.h"

namespace berth::shim {

struct MonitorOptions {
  std::string id;
  std::filesystem::path bundle;
  std::string runtimePath;
  std::vector<std::string> runtimeArgs;  // global flags before `create` (--root, --systemd-cgroup)
  std::filesystem::path logPath;         // the CRI log file
  std::filesystem::path exitFile;
  std::filesystem::path socketDir;  // attach and ctl sockets, the pid file, the console socket
  bool terminal = false;
  bool stdin = false;
  bool stdinOnce = false;
  std::size_t maxLogLine = CriLogWriter::kDefaultMaxLine;
};

class Monitor {
 public:
  // Creates the container: sockets, log, stdio, then `runtime create`. On failure nothing is left
  // (sockets, pid file) and the error carries what the runtime printed.
  [[nodiscard]] static Result<std::unique_ptr<Monitor>> create(const MonitorOptions& options);
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;
  ~Monitor();

  pid_t containerPid() const { return pid_; }
  // Relays until the init has exited and its output is drained, then writes the exit file.
  [[nodiscard]] Result<ExitRecord> run();

 private:
  explicit Monitor(const MonitorOptions& options, EventLoop loop, CriLogWriter log,
                   UniqueFd signalFd);
  [[nodiscard]] Status setUpServers();
  [[nodiscard]] Status startRuntime();
  [[nodiscard]] Status watchOutput();
  void onOutput(int fd, LogStream stream);
  void onInput(std::string_view data);
  void flushStdin();
  void onAttachDetach();
  void onControl(int client, std::string_view request);
  void onSignal();
  void outputEnded(LogStream stream);
  void killTheRest();

  MonitorOptions options_;
  EventLoop loop_;
  CriLogWriter log_;
  UniqueFd signalFd_;
  std::optional<ContainerStdio> stdio_;
  std::unique_ptr<PacketServer> attach_;
  std::unique_ptr<PacketServer> ctl_;
  pid_t pid_ = -1;
  bool sharedPidNamespace_ = false;  // the node's or the pod's: see killTheRest
  std::optional<ExitRecord> exit_;
  int openOutputs_ = 0;
  std::string stdinPending_;
  bool stdinClosePending_ = false;
  bool stdinOnceDone_ = false;
  std::vector<char> buffer_;
};

}  // namespace berth::shim
