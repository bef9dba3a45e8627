#pragma once
// How berth's daemons stop: SIGINT and SIGTERM are blocked in every thread (call this in main
// before any thread starts, so all inherit the mask) and taken by sigwait on the main thread;
// SIGPIPE is ignored (a peer that went away is an error on the write, not a death).
#include <signal.h>

namespace berth {

class TerminationSignals {
 public:
  TerminationSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
  }
  // Blocks until SIGINT or SIGTERM arrives; returns it.
  int wait() const {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

}  // namespace berth
