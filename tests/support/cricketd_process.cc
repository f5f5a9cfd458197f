#include "tests/support/cricketd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>
#include <thread>

#include "common/files.h"
#include "runtime/v1/api.grpc.pb.h"

namespace cricket::testing {

namespace {

// The test's environment with `extra` ("NAME=value") put over it, built before fork: the child
// of a threaded test process may only make async-signal-safe calls before execve.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env = extra;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra) {
      replaced = replaced || (x.size() > name.size() && x.compare(0, name.size(), name) == 0 &&
                              x[name.size()] == '=');
    }
    if (!replaced) {
      env.emplace_back(entry);
    }
  }
  return env;
}

}  // namespace

CricketdProcess::CricketdProcess(std::string binary, std::vector<std::string> args,
                                 std::string stderr_path, std::vector<std::string> env)
    : stderr_path_(std::move(stderr_path)) {
  std::vector<std::string> env_storage = MergedEnvironment(env);
  std::vector<char*> envp;
  for (auto& e : env_storage) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> argv_storage{binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);  // NOLINT
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
}

CricketdProcess::~CricketdProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool CricketdProcess::WaitReady(const std::string& socket_path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::access(socket_path.c_str(), F_OK) == 0) {
      // A real call, not just a connect: a socket file can outlive the daemon that made it.
      auto stub = runtime::v1::RuntimeService::NewStub(UnixChannel(socket_path));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      runtime::v1::VersionResponse version;
      if (stub->Version(&ctx, {}, &version).ok()) {
        return true;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<int> CricketdProcess::WaitExit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void CricketdProcess::Signal(int sig) {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, sig);
  }
}

std::string CricketdProcess::Stderr() const { return ReadFile(stderr_path_).value_or(""); }

std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path) {
  return grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials());
}

}  // namespace cricket::testing
