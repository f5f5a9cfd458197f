#include "shim/forked_call.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"

namespace cricket::shim {
namespace {

// What the child sends back: a fixed header, then the error message.
struct Answer {
  int32_t ok = 0;
  int32_t pid = 0;
  int32_t code = 0;
  int32_t sys_errno = 0;
  uint32_t message_size = 0;
};

void WriteAll(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // the parent is gone; nothing left to tell
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// The answer is short enough to sit whole in the pipe's buffer when the child exits.
constexpr size_t kMaxMessage = 3000;

// Reads what the pipe holds without waiting for its end: the processes the child started hold
// the write end until they exec (a created init waits for Start), so no end comes before then.
std::string ReadWhatIsThere(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return out;  // EAGAIN: all there is
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

Result<pid_t> RunForked(const std::function<Result<pid_t>()>& operation) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
    return Error::FromErrno(errno, "create pipe for a forked runtime call");
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t child = ::fork();
  if (child < 0) {
    return Error::FromErrno(errno, "fork for a runtime call");
  }
  if (child == 0) {
    read_end.Reset();
    // The log pump's thread did not come along, but a lock it held at the fork did.
    log::ResetAfterFork();
    Result<pid_t> result = operation();
    Answer answer;
    std::string message;
    if (result.ok()) {
      answer.ok = 1;
      answer.pid = *result;
    } else {
      answer.code = static_cast<int32_t>(result.error().code());
      answer.sys_errno = result.error().sys_errno();
      message = result.error().message().substr(0, kMaxMessage);
      answer.message_size = static_cast<uint32_t>(message.size());
    }
    WriteAll(write_end.get(), &answer, sizeof answer);
    WriteAll(write_end.get(), message.data(), message.size());
    ::_exit(0);  // no destructors or atexit handlers of the parent's objects
  }
  write_end.Reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::string bytes = ReadWhatIsThere(read_end.get());
  Answer answer;
  if (bytes.size() < sizeof answer) {
    return Error(Code::kInternal, "the forked runtime call died without an answer (status " +
                                      std::to_string(status) + ")");
  }
  std::memcpy(&answer, bytes.data(), sizeof answer);
  if (answer.ok != 0) {
    return static_cast<pid_t>(answer.pid);
  }
  std::string message = bytes.substr(sizeof answer, answer.message_size);
  return Error(static_cast<Code>(answer.code), std::move(message), answer.sys_errno);
}

}  // namespace cricket::shim
