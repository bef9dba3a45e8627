// berth-pod-init: PID 1 of a pod's shared PID namespace (the role of the pause container's
// process). It reaps whatever the pod's processes leave behind and exits on SIGTERM or SIGINT.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) return 0;
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}
