// cricket-pause: the process that holds a pod's shared namespaces (PID, IPC, UTS) when the pod
// shares a PID namespace and needs a pid 1. It is ours, not an image: a static binary that
// reaps every zombie the pod's processes leave and exits cleanly on SIGTERM or SIGINT.

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
    if (sigwait(&set, &sig) != 0) {
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      return 0;
    }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}
