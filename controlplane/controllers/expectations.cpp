#include "controlplane/controllers/expectations.h"

namespace berth::controlplane::controllers {

bool Expectations::satisfied(const std::string& controllerKey) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(controllerKey);
  if (it == records_.end()) return true;
  const Record& r = it->second;
  if (r.adds <= 0 && r.deletes.empty()) return true;
  return std::chrono::steady_clock::now() - r.timestamp > kTimeout;
}

void Expectations::expectCreations(const std::string& controllerKey, int adds) {
  std::lock_guard lock(mu_);
  records_[controllerKey] = {adds, {}, std::chrono::steady_clock::now()};
}

void Expectations::expectDeletions(const std::string& controllerKey,
                                   const std::vector<std::string>& podKeys) {
  std::lock_guard lock(mu_);
  records_[controllerKey] = {0, {podKeys.begin(), podKeys.end()}, std::chrono::steady_clock::now()};
}

void Expectations::creationObserved(const std::string& controllerKey) {
  std::lock_guard lock(mu_);
  if (auto it = records_.find(controllerKey); it != records_.end()) --it->second.adds;
}

void Expectations::deletionObserved(const std::string& controllerKey, const std::string& podKey) {
  std::lock_guard lock(mu_);
  if (auto it = records_.find(controllerKey); it != records_.end())
    it->second.deletes.erase(podKey);
}

void Expectations::forget(const std::string& controllerKey) {
  std::lock_guard lock(mu_);
  records_.erase(controllerKey);
}

}  // namespace berth::controlplane::controllers
