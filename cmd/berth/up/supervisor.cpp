#include "cmd/berth/up/supervisor.h"

#include <signal.h>

#include <algorithm>

#include "common/log.h"

namespace berth::cmd {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(250);
constexpr auto kMaxBackoff = std::chrono::seconds(30);

std::chrono::milliseconds backoff(int restarts) {
  auto delay = std::chrono::milliseconds(500) * (1 << std::min(restarts, 6));
  return std::min<std::chrono::milliseconds>(delay, kMaxBackoff);
}

}  // namespace

Supervisor::~Supervisor() {
  stopAll();
}

Status Supervisor::start(const std::string& name, SpawnOptions options) {
  auto process = startProgram(options);
  if (!process) return std::unexpected(process.error().context("start " + name));
  std::lock_guard lock(mu_);
  children_.push_back({name, std::move(options), std::move(*process)});
  if (!watcher_.joinable()) watcher_ = std::thread([this] { watch(); });
  return {};
}

bool Supervisor::running(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& c : children_)
    if (c.name == name) return c.process.valid();
  return false;
}

pid_t Supervisor::pid(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& c : children_)
    if (c.name == name) return c.process.pid();
  return -1;
}

void Supervisor::watch() {
  auto log = namedLogger("berth");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    for (auto& c : children_) {
      if (c.process.valid()) {
        auto exited = c.process.waitFor(std::chrono::milliseconds(0));
        if (!exited || !*exited) continue;
        c.process = ChildProcess();
        c.restartAt = now + backoff(c.restarts);
        log->warn("{} exited (code {}, signal {}); restarting (log {})", c.name, (*exited)->code,
                  (*exited)->signal, c.options.outputFile.value_or("-"));
      } else if (now >= c.restartAt) {
        ++c.restarts;
        auto process = startProgram(c.options);
        if (process) {
          c.process = std::move(*process);
        } else {
          log->error("restart {}: {}", c.name, process.error().message());
          c.restartAt = now + backoff(c.restarts);
        }
      }
    }
    cv_.wait_for(lock, kPoll, [this] { return stopping_; });
  }
}

void Supervisor::stopOne(Child& child, std::chrono::milliseconds grace) {
  if (!child.process.valid()) return;
  ::kill(child.process.pid(), SIGTERM);
  auto exited = child.process.waitFor(grace);
  if (!exited || !*exited) {
    namedLogger("berth")->warn("{} did not stop in {} ms: killing it", child.name, grace.count());
  }
  child.process.killAndReap();
}

void Supervisor::stopAll(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard lock(mu_);
  for (auto it = children_.rbegin(); it != children_.rend(); ++it)
    stopOne(*it, grace);
  children_.clear();
}

}  // namespace berth::cmd
