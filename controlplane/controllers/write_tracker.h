#pragma once
// What a controller wrote, until its informer's cache shows it (upstream's endpointSliceTracker
// and its stale-cache check): a sync planned on a cache older than the controller's own last
// writes would write again (a duplicate slice, a conflict), so it waits for the cache instead.
// Writes are grouped by the key of the object synced (a Service).
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "kubeapi/object_cache.h"

namespace berth::controlplane::controllers {

class WriteTracker {
 public:
  // How soon a sync that found the cache behind tries again.
  static constexpr std::chrono::milliseconds kRetryAfter{100};

  // After a create or update (the object the server returned) or a delete.
  void remember(const std::string& key, const nlohmann::json& written, bool deleted);
  // Whether `cache` shows every write remembered for `key`. A write not seen for a while (the
  // object was deleted or replaced by someone else meanwhile) is no longer waited for.
  bool caughtUp(const std::string& key, const kubeapi::ObjectCache& cache);
  void forget(const std::string& key);

 private:
  struct Written {
    std::string resourceVersion;  // "" once deleted
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  // Synced key -> written object's key -> what was written.
  std::map<std::string, std::map<std::string, Written>> written_;
};

}  // namespace berth::controlplane::controllers
