#pragma once
// How a watch handle's destructor ends its watcher, for the two dispatchers that call watchers
// from a thread of their own (WatchHub, the WatchCache): out of the registry, marked inactive
// (the dispatcher checks that before each call), then a wait for a call in flight, so that no
// callback runs once the handle is gone.
#include <cstdint>
#include <mutex>
#include <thread>

namespace berth::controlplane::storage {

// `Watchers`: a map from id to a pointer to a watcher with an atomic `active`. `deliverMu` is
// what the dispatcher holds while it calls watchers.
template <class Watchers>
void endWatcher(std::mutex& registryMu, Watchers& watchers, std::uint64_t id, std::mutex& deliverMu,
                const std::thread& dispatcher) {
  typename Watchers::mapped_type w;
  {
    std::lock_guard lock(registryMu);
    auto it = watchers.find(id);
    if (it == watchers.end()) return;
    w = std::move(it->second);
    watchers.erase(it);
  }
  w->active = false;
  // From inside a callback (the dispatcher's thread) the call in flight is the caller's own.
  if (std::this_thread::get_id() != dispatcher.get_id()) std::lock_guard wait(deliverMu);
}

}  // namespace berth::controlplane::storage
