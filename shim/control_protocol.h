#pragma once

// The shim's control protocol: small JSON messages over a unix stream socket, each framed as a
// 4-byte big-endian length followed by that many bytes of JSON, optionally carrying file
// descriptors (SCM_RIGHTS) with the frame. Deliberately not gRPC: the shim must stay tiny.
//
// Requests have an "op" (status, start, kill, exec, attach, resize, reopen_log, delete) and
// op-specific fields; replies have "ok" and either result fields or "code" (a cricket::Code)
// and "message". A malformed, oversized or truncated frame is an error for that connection
// only.

#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::shim {

// Larger frames are refused before their body is read.
inline constexpr size_t kMaxFrameBytes = 1 << 20;
// At most this many descriptors ride on one frame (stdin, stdout, stderr of an exec).
inline constexpr size_t kMaxFrameFds = 4;

struct Frame {
  nlohmann::json body;
  std::vector<UniqueFd> fds;
};

// Sends one frame. kUnavailable when the peer is gone.
Result<void> SendFrame(int sock, const nlohmann::json& body, const std::vector<int>& fds = {});

// Receives one frame, waiting up to `timeout`. kUnavailable on a clean EOF before a frame,
// kInvalidArgument for an oversized, truncated or non-JSON frame (naming which),
// kDeadlineExceeded on timeout.
Result<Frame> ReceiveFrame(int sock, std::chrono::milliseconds timeout);

// Replies.
nlohmann::json OkReply(nlohmann::json fields = nlohmann::json::object());
nlohmann::json ErrorReply(const Error& error);
// The Error a reply carries, or OK. kInvalidArgument when the reply is malformed.
Result<void> ReplyStatus(const nlohmann::json& reply);

// A request as the shim serves it, every field typed and checked. Fields an op does not use
// keep their defaults.
struct ShimRequest {
  std::string op;
  int signal = 0;           // kill: 1..64, required
  bool all = false;         // kill: every process of the container
  bool with_stdin = false;  // exec, attach: "stdin"
  int width = 0;            // resize: 1..65535, required
  int height = 0;           // resize: 1..65535, required
  bool force = false;       // delete
  nlohmann::json process;   // exec: the OCI process, an object (required)
};

// Decodes a request. It comes from whoever can reach the control socket, and nlohmann's
// value() throws on a field of another type, which ended the shim and orphaned its container:
// here a field of the wrong type, out of range or missing where required is kInvalidArgument
// naming the op and the field ("kill: all must be a boolean"). An unknown op is not an error
// here (the server answers it).
Result<ShimRequest> ParseRequest(const nlohmann::json& req);

// A field of a reply, or `fallback` when it is absent or of another type: a reply is data from
// another process, and nlohmann's value() throws on a wrong type (found by fuzz_shim_control).
template <typename T>
T ReplyField(const nlohmann::json& reply, const char* key, T fallback) {
  if (!reply.is_object()) {
    return fallback;
  }
  auto it = reply.find(key);
  if (it == reply.end()) {
    return fallback;
  }
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->get<bool>() : fallback;
  } else {
    return it->is_number_integer() ? it->get<T>() : fallback;
  }
}
inline std::string ReplyField(const nlohmann::json& reply, const char* key, const char* fallback) {
  if (reply.is_object()) {
    if (auto it = reply.find(key); it != reply.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return fallback;
}

}  // namespace cricket::shim
