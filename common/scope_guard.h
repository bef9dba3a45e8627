#pragma once
// Runs a rollback action at scope exit unless cancelled (Seastar `defer`): multi-step setup undoes
// what it did when a later step fails.

#include <utility>

namespace berth {

template <class F>
class [[nodiscard]] ScopeGuard {
 public:
  explicit ScopeGuard(F f) : f_(std::move(f)) {}
  ScopeGuard(ScopeGuard&& o) noexcept
      : f_(std::move(o.f_)), active_(std::exchange(o.active_, false)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ScopeGuard& operator=(ScopeGuard&&) = delete;
  ~ScopeGuard() {
    if (active_) f_();
  }
  // The setup succeeded: keep what was done.
  void cancel() { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

template <class F>
ScopeGuard<F> defer(F f) {
  return ScopeGuard<F>(std::move(f));
}

}  // namespace berth
