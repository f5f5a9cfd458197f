#include "oci/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/unique_fd.h"

namespace cricket::oci {
namespace {

struct SpawnFileActions {
  posix_spawn_file_actions_t actions{};
  SpawnFileActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&actions); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
};

Result<void> RunHook(const Hook& hook, const std::string& name, const std::string& state_json) {
  // A socket rather than a pipe: send(MSG_NOSIGNAL) copes with a hook that never reads its
  // stdin without touching the process's SIGPIPE disposition.
  int pipe_fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipe_fds) < 0) {
    return Error::FromErrno(errno, name + ": socketpair");
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  SpawnFileActions fa;
  posix_spawn_file_actions_adddup2(&fa.actions, read_end.get(), STDIN_FILENO);
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  std::vector<char*> envp;
  for (auto& e : env) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, hook.path.c_str(), &fa.actions, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    return Error::FromErrno(rc, name + " " + hook.path);
  }
  read_end.Reset();
  (void)::send(write_end.get(), state_json.data(), state_json.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  write_end.Reset();

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int timeout_ms = hook.timeout ? *hook.timeout * 1000 : -1;
  if (pidfd.valid()) {
    pollfd pfd{pidfd.get(), POLLIN, 0};
    int ready = 0;
    do {
      ready = ::poll(&pfd, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return Error(Code::kDeadlineExceeded, name + " " + hook.path + ": timed out after " +
                                                std::to_string(*hook.timeout) + " s");
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return Ok();
  }
  std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  return Error(Code::kInternal, name + " " + hook.path + ": " + how);
}

}  // namespace

Result<void> RunHooks(const std::vector<Hook>& hooks, const char* field, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    CR_RETURN_IF_ERROR(RunHook(hooks[i], std::string(field) + "[" + std::to_string(i) + "]", state_json));
  }
  return Ok();
}

}  // namespace cricket::oci
