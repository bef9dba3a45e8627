#include "common/http/worker_pool.h"

#include <pthread.h>

#include <vector>

namespace berth::http {
namespace {

// The pool and worker the current thread belongs to, for detachCurrentThread.
thread_local WorkerPool* tCurrentPool = nullptr;
thread_local void* tCurrentWorker = nullptr;

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    startWorker();
}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::startWorker() {
  Worker& w = workers_.emplace_back();
  w.thread = std::thread([this, &w] { run(&w); });
}

bool WorkerPool::submit(std::function<void()> task) {
  reapExited();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool WorkerPool::detachCurrentThread() {
  if (tCurrentPool != this || tCurrentWorker == nullptr) return false;
  std::lock_guard lock(mu_);
  auto* w = static_cast<Worker*>(tCurrentWorker);
  if (w->detached) return true;
  w->detached = true;
  if (!stopping_) startWorker();
  return true;
}

void WorkerPool::run(Worker* self) {
  ::pthread_setname_np(::pthread_self(), "http-worker");
  tCurrentPool = this;
  tCurrentWorker = self;
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) break;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    std::lock_guard lock(mu_);
    if (self->detached) break;
  }
  std::lock_guard lock(mu_);
  self->exited = true;
}

void WorkerPool::reapExited() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->exited && it->detached) {
        done.push_back(std::move(it->thread));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& t : done)
    t.join();
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Detached workers may still be serving upgraded connections; join until none is left.
  while (true) {
    std::list<Worker> workers;
    {
      std::lock_guard lock(mu_);
      if (workers_.empty()) return;
      workers.splice(workers.end(), workers_);
    }
    for (auto& w : workers)
      if (w.thread.joinable()) w.thread.join();
  }
}

std::size_t WorkerPool::threadCount() {
  reapExited();
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& w : workers_)
    n += !w.exited;
  return n;
}

}  // namespace berth::http
