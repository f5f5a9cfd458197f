#include "oci/criu.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "common/files.h"
#include "common/unique_fd.h"

namespace cricket::oci {
namespace {

// The first line of criu's output that says what went wrong (or its last line).
std::string FirstErrorLine(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (line.find("Error") != std::string::npos) {
      return line;
    }
    if (!line.empty()) {
      last = line;
    }
  }
  return last;
}

std::string ReadAll(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// The child between fork and execve: async-signal-safe calls only.
[[noreturn]] void ExecCriu(const char* path, char* const argv[], int sync_fd,
                           const std::vector<int>& keep_fds, int output_fd) {
  char go = 0;
  if (::read(sync_fd, &go, 1) != 1) {
    ::_exit(126);  // the parent gave up on us
  }
  // The shim blocks SIGCHLD (it reads it from a signalfd); criu needs its own handlers.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (output_fd >= 0) {
    ::dup2(output_fd, 1);
    ::dup2(output_fd, 2);
  }
  for (int fd : keep_fds) {
    ::fcntl(fd, F_SETFD, 0);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  }
  ::execv(path, argv);
  ::_exit(127);
}

}  // namespace

Result<std::string> FindCriu() {
  if (const char* env = std::getenv(kCriuEnv); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) != 0) {
      return Error(Code::kFailedPrecondition, std::string("criu is not installed (") + kCriuEnv +
                                                  "=" + env + " is not executable)");
    }
    return std::string(env);
  }
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"}) {
    std::string path = std::string(dir) + "/criu";
    if (::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return Error(Code::kFailedPrecondition,
               "criu is not installed (no criu in /usr/sbin, /sbin, /usr/local/sbin, /usr/bin; "
               "Debian package criu)");
}

Result<void> CheckCriu(const std::string& criu) {
  UniqueFd out(::memfd_create("criu-check", MFD_CLOEXEC));
  if (!out.valid()) {
    return Error::FromErrno(errno, "memfd for criu check");
  }
  CriuCall call;
  call.args = {"check"};
  call.output_fd = out.get();
  auto ran = RunCriu(criu, call);
  if (ran.ok()) {
    return Ok();
  }
  std::string why = FirstErrorLine(ReadAll(out.get()));
  return Error(Code::kFailedPrecondition,
               "criu check failed: " + (why.empty() ? ran.error().message() : why));
}

Result<void> RunCriu(const std::string& criu, const CriuCall& call) {
  std::vector<std::string> words;
  words.push_back(criu);
  words.insert(words.end(), call.args.begin(), call.args.end());
  std::vector<char*> argv;
  for (std::string& w : words) {
    argv.push_back(w.data());
  }
  argv.push_back(nullptr);
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe for criu");
  }
  UniqueFd sync_r(sync[0]);
  UniqueFd sync_w(sync[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork criu");
  }
  if (pid == 0) {
    ::close(sync[1]);
    ExecCriu(words[0].c_str(), argv.data(), sync[0], call.keep_fds, call.output_fd);
  }
  sync_r.Reset();
  Result<void> ready = Ok();
  if (call.before_exec) {
    ready = call.before_exec(pid);
  }
  if (ready.ok()) {
    char go = 1;
    if (::write(sync_w.get(), &go, 1) != 1) {
      ready = Error::FromErrno(errno, "release criu");
    }
  }
  sync_w.Reset();  // without the byte the child exits 126
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Error::FromErrno(errno, "wait for criu");
    }
  }
  CR_RETURN_IF_ERROR(ready);
  const std::string verb = call.args.empty() ? "" : call.args[0];
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return Ok();
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Error(Code::kFailedPrecondition, "criu " + verb + ": cannot execute " + criu);
  }
  return Error(Code::kInternal,
               "criu " + verb + " failed (" +
                   (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status))) +
                   ")");
}

std::string CriuLogErrors(const std::string& log_file, size_t max_lines) {
  auto text = ReadFile(log_file);
  if (!text.ok()) {
    return "";
  }
  std::vector<std::string> errors;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("Error") != std::string::npos) {
      errors.push_back(line);
    }
  }
  std::string joined;
  size_t first = errors.size() > max_lines ? errors.size() - max_lines : 0;
  for (size_t i = first; i < errors.size(); ++i) {
    joined += (joined.empty() ? "" : "; ") + errors[i];
  }
  return joined;
}

}  // namespace cricket::oci
