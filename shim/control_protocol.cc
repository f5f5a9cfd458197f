#include "shim/control_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace cricket::shim {
namespace {

using Clock = std::chrono::steady_clock;

Result<void> WaitReadable(int sock, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Error(Code::kDeadlineExceeded, "shim control: no frame within the timeout");
    }
    pollfd pfd{sock, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc > 0) {
      return Ok();
    }
    if (rc < 0 && errno != EINTR) {
      return Error::FromErrno(errno, "shim control: poll");
    }
  }
}

// Reads exactly `len` bytes; descriptors that arrive are appended to `fds`. Returns the number
// of bytes read before EOF when the stream ends early.
Result<size_t> ReadFull(int sock, char* buf, size_t len, std::vector<UniqueFd>* fds,
                        Clock::time_point deadline) {
  size_t done = 0;
  while (done < len) {
    CR_RETURN_IF_ERROR(WaitReadable(sock, deadline));
    iovec iov{buf + done, len - done};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFrameFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return Error::FromErrno(errno, "shim control: receive");
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd = -1;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->emplace_back(fd);  // owned (and closed) even when the frame is refused
        }
      }
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0) {
      return Error(Code::kInvalidArgument, "shim control: too many descriptors on one frame");
    }
    if (n == 0) {
      return done;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

Result<void> SendFrame(int sock, const nlohmann::json& body, const std::vector<int>& fds) {
  if (fds.size() > kMaxFrameFds) {
    return Error(Code::kInvalidArgument, "shim control: too many descriptors on one frame");
  }
  std::string payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (payload.size() > kMaxFrameBytes) {
    return Error(
        Code::kInvalidArgument,
        "shim control: frame of " + std::to_string(payload.size()) + " bytes is too large");
  }
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                       static_cast<char>(len >> 8), static_cast<char>(len)};
  frame += payload;
  size_t sent = 0;
  while (sent < frame.size()) {
    iovec iov{frame.data() + sent, frame.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFrameFds)] = {};
    if (sent == 0 && !fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Error e = Error::FromErrno(errno, "shim control: send");
      return errno == EPIPE || errno == ECONNRESET ? Error(Code::kUnavailable, e.message()) : e;
    }
    sent += static_cast<size_t>(n);
  }
  return Ok();
}

Result<Frame> ReceiveFrame(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Frame frame;
  unsigned char header[4];
  CR_ASSIGN_OR_RETURN(size_t got, ReadFull(sock, reinterpret_cast<char*>(header), sizeof(header),
                                           &frame.fds, deadline));
  if (got == 0) {
    return Error(Code::kUnavailable, "shim control: connection closed");
  }
  if (got < sizeof(header)) {
    return Error(Code::kInvalidArgument, "shim control: truncated frame header");
  }
  const uint32_t len = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                       (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (len > kMaxFrameBytes) {
    return Error(Code::kInvalidArgument,
                 "shim control: frame of " + std::to_string(len) + " bytes is too large");
  }
  std::string payload(len, '\0');
  CR_ASSIGN_OR_RETURN(got, ReadFull(sock, payload.data(), len, &frame.fds, deadline));
  if (got < len) {
    return Error(Code::kInvalidArgument, "shim control: truncated frame body");
  }
  frame.body = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (frame.body.is_discarded() || !frame.body.is_object()) {
    return Error(Code::kInvalidArgument, "shim control: frame is not a JSON object");
  }
  return frame;
}

nlohmann::json OkReply(nlohmann::json fields) {
  fields["ok"] = true;
  return fields;
}

nlohmann::json ErrorReply(const Error& error) {
  return {{"ok", false}, {"code", static_cast<int>(error.code())}, {"message", error.message()}};
}

namespace {

Result<bool> BoolField(const nlohmann::json& req, const std::string& op, const char* key) {
  auto it = req.find(key);
  if (it == req.end()) {
    return false;
  }
  if (!it->is_boolean()) {
    return Error(Code::kInvalidArgument, op + ": " + key + " must be a boolean");
  }
  return it->get<bool>();
}

// A required integer in [min, max]. is_number_integer: a float would be truncated (or, out of
// range, undefined when cast).
Result<int> IntField(const nlohmann::json& req, const std::string& op, const char* key, int min,
                     int max) {
  auto it = req.find(key);
  if (it == req.end() || !it->is_number_integer() ||
      (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max)) ||
      it->get<int64_t>() < min || it->get<int64_t>() > max) {
    return Error(Code::kInvalidArgument, op + ": " + key + " must be an integer in " +
                                             std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<int>(it->get<int64_t>());
}

}  // namespace

Result<ShimRequest> ParseRequest(const nlohmann::json& req) {
  if (!req.is_object()) {
    return Error(Code::kInvalidArgument, "shim control: request is not a JSON object");
  }
  ShimRequest out;
  if (auto op = req.find("op"); op != req.end()) {
    if (!op->is_string()) {
      return Error(Code::kInvalidArgument, "shim control: op must be a string");
    }
    out.op = op->get<std::string>();
  }
  if (out.op == "kill") {
    CR_ASSIGN_OR_RETURN(out.signal, IntField(req, out.op, "signal", 1, 64));
    CR_ASSIGN_OR_RETURN(out.all, BoolField(req, out.op, "all"));
  } else if (out.op == "exec" || out.op == "attach") {
    CR_ASSIGN_OR_RETURN(out.with_stdin, BoolField(req, out.op, "stdin"));
    if (out.op == "exec") {
      auto process = req.find("process");
      if (process == req.end() || !process->is_object()) {
        return Error(Code::kInvalidArgument, "exec: process must be an object");
      }
      out.process = *process;
    }
  } else if (out.op == "resize") {
    CR_ASSIGN_OR_RETURN(out.width, IntField(req, out.op, "width", 1, 65535));
    CR_ASSIGN_OR_RETURN(out.height, IntField(req, out.op, "height", 1, 65535));
  } else if (out.op == "delete") {
    CR_ASSIGN_OR_RETURN(out.force, BoolField(req, out.op, "force"));
  }
  return out;
}

Result<void> ReplyStatus(const nlohmann::json& reply) {
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
    return Error(Code::kInvalidArgument, "shim control: malformed reply");
  }
  if (reply["ok"].get<bool>()) {
    return Ok();
  }
  // Typed lookups: json::value() throws on a field of another type and a float "code" cast to
  // int is undefined (both found by tests/fuzz/shim_control).
  int64_t code = static_cast<int64_t>(Code::kUnknown);
  if (auto it = reply.find("code"); it != reply.end() && it->is_number_integer()) {
    code = it->get<int64_t>();
  }
  if (code <= 0 || code > static_cast<int64_t>(Code::kUnauthenticated)) {
    code = static_cast<int64_t>(Code::kUnknown);
  }
  auto message = reply.find("message");
  return Error(static_cast<Code>(code), message != reply.end() && message->is_string()
                                            ? message->get<std::string>()
                                            : std::string("shim error"));
}

}  // namespace cricket::shim
