#include "storage/http_client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "common/helper_binary.h"
#include "common/unique_fd.h"
#include "storage/fetch_protocol.h"

namespace cricket::storage {
namespace {

// A running cricket-fetch: killed and reaped when it goes out of scope unless it was reaped.
class FetchProcess {
 public:
  FetchProcess(pid_t pid, UniqueFd socket) : pid_(pid), socket_(std::move(socket)) {}
  FetchProcess(const FetchProcess&) = delete;
  FetchProcess& operator=(const FetchProcess&) = delete;
  ~FetchProcess() {
    ::kill(pid_, SIGKILL);  // no-op for one that exited; it is still ours until reaped
    Reap();
  }

  int socket() const { return socket_.get(); }
  // The helper's stdin reaches its end; its answer still comes.
  void CloseInput() { ::shutdown(socket_.get(), SHUT_WR); }

  // Waits for the exit; "exit status N" or "killed by signal N".
  std::string Reap() {
    if (reaped_) {
      return how_;
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    how_ = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                               : "exit status " + std::to_string(WEXITSTATUS(status));
    return how_;
  }

 private:
  pid_t pid_;
  UniqueFd socket_;
  bool reaped_ = false;
  std::string how_;
};

// Starts `binary` with one end of a socket pair as stdin and stdout and `upload_fd` (if >= 0)
// as fd 3; stderr stays cricketd's.
Result<std::unique_ptr<FetchProcess>> Spawn(const std::string& binary, int upload_fd) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    return Error::FromErrno(errno, "create socket pair for cricket-fetch");
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  int status_pipe[2];  // carries errno if execv fails
  if (::pipe2(status_pipe, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "create pipe for cricket-fetch");
  }
  UniqueFd exec_status_read(status_pipe[0]);
  UniqueFd exec_status_write(status_pipe[1]);
  std::string path = binary;
  char* argv[] = {path.data(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork for cricket-fetch");
  }
  if (pid == 0) {
    // Only async-signal-safe calls here. The upload fd moves clear of 0..3 first, so that
    // placing the pipes cannot overwrite it.
    // CLOEXEC on the copy: dup2 onto kFetchUploadFd below gives the one cricket-fetch keeps.
    int upload = upload_fd >= 0 ? ::fcntl(upload_fd, F_DUPFD_CLOEXEC, kFetchUploadFd + 1) : -1;
    ::dup2(theirs.get(), STDIN_FILENO);
    ::dup2(theirs.get(), STDOUT_FILENO);
    if (upload >= 0) {
      ::dup2(upload, kFetchUploadFd);
    }
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv);
    int e = errno;
    (void)!::write(exec_status_write.get(), &e, sizeof(e));
    ::_exit(127);
  }
  auto process = std::make_unique<FetchProcess>(pid, std::move(ours));
  theirs.Reset();
  exec_status_write.Reset();
  int exec_errno = 0;
  if (::read(exec_status_read.get(), &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    // Not the errno's own code: ENOENT here is a broken install, not a missing image.
    return Error(Code::kFailedPrecondition, "execute " + binary + ": " + ::strerror(exec_errno),
                 exec_errno);
  }
  return process;
}

}  // namespace

HttpClient::HttpClient(std::string fetch_binary) {
  if (!fetch_binary.empty()) {
    fetch_binary_ = std::move(fetch_binary);
  } else if (auto found = FindHelperBinary("cricket-fetch", "storage"); found.ok()) {
    fetch_binary_ = std::move(found).value();
  } else {
    missing_ = found.error().message();
  }
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& request, const BodySink& sink,
                                    size_t max_body_bytes) const {
  const auto now = std::chrono::steady_clock::now();
  if (now >= request.deadline) {
    return Error(Code::kDeadlineExceeded, "deadline exceeded before " + request.url);
  }
  if (fetch_binary_.empty()) {
    return Error(Code::kFailedPrecondition, "fetch " + request.url + ": " + missing_);
  }
  CR_ASSIGN_OR_RETURN(auto child, Spawn(fetch_binary_, request.upload_fd));
  // The helper reads its whole request before it answers, so writing it all first cannot
  // deadlock; a helper that died early shows as kUnavailable on the write or the read.
  auto sent = WriteFrame(child->socket(), FrameType::kRequest, EncodeRequest(request, now));
  if (sent.ok() && !request.body.empty()) {
    sent = WriteFrame(child->socket(), FrameType::kRequestBody, request.body);
  }
  child->CloseInput();
  if (!sent.ok() && sent.error().code() != Code::kUnavailable) {
    return sent.error().Wrap("fetch " + request.url);
  }

  std::optional<HttpResponse> head;
  std::string body;
  for (;;) {
    auto frame = ReadFrame(child->socket(), request.deadline);
    if (!frame.ok()) {
      if (frame.error().code() == Code::kDeadlineExceeded) {
        return Error(Code::kDeadlineExceeded, "deadline exceeded while fetching " + request.url);
      }
      if (frame.error().code() == Code::kUnavailable) {
        return Error(Code::kUnavailable, "fetch " + request.url + ": cricket-fetch ended (" +
                                             child->Reap() + ") without an answer");
      }
      return frame.error().Wrap("fetch " + request.url);
    }
    switch (frame->type) {
      case FrameType::kHead: {
        CR_ASSIGN_OR_RETURN(head, DecodeHead(frame->payload));
        break;
      }
      case FrameType::kBody:
        if (!head) {
          return Error(Code::kDataLoss, "fetch " + request.url + ": body before the head");
        }
        if (sink) {
          CR_RETURN_IF_ERROR(sink(*head, frame->payload));  // the child is killed on return
        } else if (body.size() + frame->payload.size() > max_body_bytes) {
          return Error(Code::kResourceExhausted,
                       "response body is larger than " + std::to_string(max_body_bytes) + " bytes");
        } else {
          body += frame->payload;
        }
        break;
      case FrameType::kDone: {
        CR_ASSIGN_OR_RETURN(HttpResponse response, DecodeHead(frame->payload));
        response.body = std::move(body);
        child->Reap();
        return response;
      }
      case FrameType::kError:
        child->Reap();
        return DecodeError(frame->payload);
      case FrameType::kRequest:
      case FrameType::kRequestBody:
        return Error(Code::kDataLoss, "fetch " + request.url + ": unexpected frame");
    }
  }
}

}  // namespace cricket::storage
