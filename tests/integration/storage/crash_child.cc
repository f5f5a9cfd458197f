#include "tests/integration/storage/crash_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "common/failpoint.h"

namespace cricket::storage::testing {
namespace {

void WriteAllFd(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}

// The child's report: "<code>\n<check ok 0/1>\n<message>".
[[noreturn]] void ChildMain(int out, const std::string& spec,
                            const std::function<Result<void>()>& op,
                            const std::function<std::string()>& after_error) {
  if (auto configured = ConfigureFailPoints(spec); !configured.ok()) {
    WriteAllFd(out, std::to_string(static_cast<int>(Code::kInvalidArgument)) + "\n0\n" +
                        configured.error().ToString());
    ::_exit(3);
  }
  Result<void> r = op();
  std::string report;
  if (r.ok()) {
    report = "0\n1\n";
  } else {
    (void)ConfigureFailPoints("");  // the check and any retry it makes run normally
    std::string complaint = after_error();
    report = std::to_string(static_cast<int>(r.error().code())) + "\n" +
             (complaint.empty() ? "1\n" : "0\n") +
             (complaint.empty() ? r.error().ToString() : complaint);
  }
  WriteAllFd(out, report);
  ::_exit(0);
}

}  // namespace

ChildEnd RunInChild(const std::string& spec, const std::function<Result<void>()>& op,
                    const std::function<std::string()>& after_error, int timeout_ms) {
  ChildEnd end;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    end.message = "pipe failed";
    return end;
  }
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    end.message = "fork failed";
    return end;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(fds[1], spec, op, after_error);
  }
  ::close(fds[1]);
  std::string report;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      end.message = "child timed out";
      break;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    report.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && report.empty() && end.message.empty()) {
    end.killed = true;
    return end;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || report.empty()) {
    if (end.message.empty()) {
      end.message = "child ended with status " + std::to_string(status) + ": " + report;
    }
    return end;
  }
  size_t first = report.find('\n');
  size_t second = report.find('\n', first + 1);
  end.exited = true;
  end.code = static_cast<Code>(std::stoi(report.substr(0, first)));
  end.check_ok = report.substr(first + 1, second - first - 1) == "1";
  end.message = report.substr(second + 1);
  return end;
}

void PrintMatrix(const std::string& title, const std::vector<MatrixRow>& rows) {
  std::printf("\n%s\n%-34s %-7s %-56s %s\n", title.c_str(), "fail point", "action", "outcome",
              "result");
  for (const MatrixRow& row : rows) {
    std::printf("%-34s %-7s %-56s %s%s%s\n", row.point.c_str(), row.action.c_str(),
                row.outcome.c_str(), row.pass ? "PASS" : "FAIL", row.pass ? "" : ": ",
                row.why.c_str());
  }
  std::fflush(stdout);
}

Code ExpectedCode(const std::string& action) {
  return action == "enospc" ? Code::kResourceExhausted : Code::kInternal;
}

bool JudgeChild(const ChildEnd& end, const std::string& action, const std::string& failed_outcome,
                MatrixRow& row) {
  if (action == "kill") {
    if (!end.killed) {
      row.why = "not killed: " + end.message;
      return false;
    }
    row.outcome = "killed";
    return true;
  }
  const Code want = ExpectedCode(action);
  if (!end.exited || end.code != want) {
    row.why = "expected code " + std::to_string(static_cast<int>(want)) + ", got " +
              std::to_string(static_cast<int>(end.code)) + ": " + end.message;
    return false;
  }
  if (!end.check_ok) {
    row.why = end.message;
    return false;
  }
  row.outcome = failed_outcome;
  return true;
}

void ReportMatrix(const std::string& title, const std::vector<MatrixRow>& rows) {
  PrintMatrix(title, rows);
  for (const MatrixRow& row : rows) {
    EXPECT_TRUE(row.pass) << row.point << "=" << row.action << ": " << row.why;
  }
}

}  // namespace cricket::storage::testing
