#pragma once
// client-go-era ControllerExpectations with UID tracking (pkg/controller/controller_utils.go
// UIDTrackingControllerExpectations): after a controller creates or deletes pods, it waits to see
// them in its informer before it counts pods again, so a slow watch never makes it create or
// delete twice. Expectations expire after five minutes (ExpectationsTimeout) in case an event is
// lost.
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

class Expectations {
 public:
  static constexpr std::chrono::minutes kTimeout{5};

  // No outstanding creations or deletions (or none recorded, or expired).
  bool satisfied(const std::string& controllerKey) const;
  void expectCreations(const std::string& controllerKey, int adds);
  // `podKeys` ("namespace/name") are the pods being deleted.
  void expectDeletions(const std::string& controllerKey, const std::vector<std::string>& podKeys);
  void creationObserved(const std::string& controllerKey);
  void deletionObserved(const std::string& controllerKey, const std::string& podKey);
  void forget(const std::string& controllerKey);

 private:
  struct Record {
    int adds = 0;
    std::set<std::string> deletes;
    std::chrono::steady_clock::time_point timestamp;
  };
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;
};

}  // namespace berth::controlplane::controllers
