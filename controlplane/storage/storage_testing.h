#pragma once
// Helpers for the storage tests: assertions on Result values, and EventLog, which collects what a
// backend watch delivers so the test thread can wait for it with a deadline.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "controlplane/storage/backend.h"

// For Result-returning calls in tests: the error's message is the failure's.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                        \
  auto lhs##_result = (expr);                                  \
  ASSERT_TRUE(lhs##_result) << lhs##_result.error().message(); \
  auto lhs = std::move(*lhs##_result)

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    auto ok_result_ = (expr);                                \
    ASSERT_TRUE(ok_result_) << ok_result_.error().message(); \
  } while (0)

namespace berth::controlplane::storage::testing {

// Collects what a watch delivers, for assertions from the test thread.
class EventLog {
 public:
  WatchCallbacks callbacks();
  // Waits (up to the deadline) until `n` events arrived; false on timeout.
  bool waitForEvents(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(20));
  bool waitForProgress(std::int64_t revision,
                       std::chrono::seconds timeout = std::chrono::seconds(20));
  std::vector<Event> events() const;
  std::size_t calls() const;
  std::optional<Error> error() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::size_t calls_ = 0;
  std::int64_t progress_ = 0;
  std::optional<Error> error_;
};

inline WatchCallbacks EventLog::callbacks() {
  WatchCallbacks cb;
  cb.onEvents = [this](std::span<const Event> events) {
    std::lock_guard lock(mu_);
    ++calls_;
    events_.insert(events_.end(), events.begin(), events.end());
    cv_.notify_all();
  };
  cb.onError = [this](const Error& error) {
    std::lock_guard lock(mu_);
    error_ = error;
    cv_.notify_all();
  };
  cb.onProgress = [this](std::int64_t revision) {
    std::lock_guard lock(mu_);
    progress_ = std::max(progress_, revision);
    cv_.notify_all();
  };
  return cb;
}

inline bool EventLog::waitForEvents(std::size_t n, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n || error_; }) &&
         events_.size() >= n;
}

inline bool EventLog::waitForProgress(std::int64_t revision, std::chrono::seconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return progress_ >= revision; });
}

inline std::vector<Event> EventLog::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

inline std::size_t EventLog::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

inline std::optional<Error> EventLog::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

}  // namespace berth::controlplane::storage::testing
