#pragma once
// The bounded pool that runs HTTP handlers: a fixed number of threads taking tasks in order. A
// handler that upgrades its connection leaves the pool (detachCurrentThread): a new worker takes
// its place and the old thread serves the upgraded connection until its handler returns, so
// upgraded connections never starve ordinary requests.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace berth::http {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();  // stop()

  // Queues a task; false once stop() began.
  bool submit(std::function<void()> task);
  // From inside a task of this pool: the calling thread leaves the pool (a new worker starts in
  // its place unless the pool is stopping) and ends when its task returns. False elsewhere.
  bool detachCurrentThread();
  // Runs what is queued, then joins every thread, detached ones included. Never from a task.
  void stop();
  // Threads alive now, detached ones included.
  std::size_t threadCount();

 private:
  struct Worker {
    std::thread thread;
    bool detached = false;
    bool exited = false;
  };
  void startWorker();  // mu_ held
  void run(Worker* self);
  void reapExited();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::list<Worker> workers_;
  bool stopping_ = false;
};

}  // namespace berth::http
