#include "controlplane/controllers/write_tracker.h"

#include <charconv>

#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

namespace {

constexpr std::chrono::seconds kMaxWait{10};

// Resource versions are the store's revisions (decimal) on berth-server and kube-apiserver.
std::uint64_t revisionOf(std::string_view rv) {
  std::uint64_t n = 0;
  std::from_chars(rv.data(), rv.data() + rv.size(), n);
  return n;
}

}  // namespace

void WriteTracker::remember(const std::string& key, const nlohmann::json& written, bool deleted) {
  std::lock_guard lock(mu_);
  written_[key][kubeapi::objectKey(written)] = {
      deleted ? "" : std::string(kubeapi::resourceVersionOf(written)),
      std::chrono::steady_clock::now()};
}

bool WriteTracker::caughtUp(const std::string& key, const kubeapi::ObjectCache& cache) {
  std::lock_guard lock(mu_);
  auto it = written_.find(key);
  if (it == written_.end()) return true;
  auto& objects = it->second;
  auto now = std::chrono::steady_clock::now();
  for (auto o = objects.begin(); o != objects.end();) {
    kubeapi::ObjectPtr cached = cache.get(o->first);
    const std::string& rv = o->second.resourceVersion;
    bool reflected =
        rv.empty() ? !cached
                   : cached && revisionOf(kubeapi::resourceVersionOf(*cached)) >= revisionOf(rv);
    o = reflected || now - o->second.at > kMaxWait ? objects.erase(o) : std::next(o);
  }
  bool done = objects.empty();
  if (done) written_.erase(it);
  return done;
}

void WriteTracker::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  written_.erase(key);
}

}  // namespace berth::controlplane::controllers
