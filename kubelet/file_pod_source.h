#pragma once
// Static pods from --pod-manifest-path (pkg/kubelet/config/file.go and file_linux.go upstream):
// every regular file of the directory (or the one file the path names) whose name does not start
// with a dot holds one pod, decoded by decodeStaticPod. The path is read at start, again on every
// inotify event (coalesced) and every fileCheckFrequency. A file that does not decode is logged
// and skipped; one that stops decoding keeps its last good pod, so a half-written edit does not
// stop a running pod (upstream's watch path keeps it too).
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "kubeapi/object_cache.h"

namespace berth::kubelet {

class FilePodSource {
 public:
  struct Options {
    std::filesystem::path path;
    std::string nodeName;
    std::chrono::milliseconds checkFrequency{20'000};
    // After a read that changed something, from the source's thread: the pods that appeared and
    // those that went (an edited file is one of each: its pod has a new UID).
    std::function<void(const std::vector<kubeapi::ObjectPtr>& added,
                       const std::vector<kubeapi::ObjectPtr>& removed)>
        onChange;
  };

  explicit FilePodSource(Options options) : options_(std::move(options)) {}
  ~FilePodSource() { stop(); }
  FilePodSource(const FilePodSource&) = delete;
  FilePodSource& operator=(const FilePodSource&) = delete;

  // Reads the path once (the pods are known before any worker asks), then watches it.
  void start();
  void stop();
  // Reads the path now; what the watch and the period do (never two at once).
  void rescan();

  // The static pod with this UID, or with this namespace/name; null when none.
  kubeapi::ObjectPtr get(const std::string& uid) const;
  kubeapi::ObjectPtr getByKey(const std::string& key) const;
  std::vector<kubeapi::ObjectPtr> pods() const;

 private:
  // The manifest files, sorted (upstream reads them in that order; a later file wins a name).
  std::vector<std::filesystem::path> manifestFiles() const;
  enum class Wake { kTimeout, kEvent, kStop };
  // Waits for stop(), an inotify event (when `events`) or the deadline.
  Wake waitUntil(std::chrono::steady_clock::time_point deadline, bool events);
  void drainEvents();
  void watchLoop();
  // Adds the inotify watch on the path when it has none (the path may appear later).
  void ensureWatch();

  Options options_;
  mutable std::mutex mu_;
  std::map<std::filesystem::path, kubeapi::ObjectPtr> byFile_;  // guarded by mu_
  std::map<std::filesystem::path, std::string> lastError_;      // rescan only: log changes once
  UniqueFd inotify_;
  int watch_ = -1;
  UniqueFd stopFd_;  // eventfd: stop() wakes the watch
  std::thread thread_;
};

}  // namespace berth::kubelet
