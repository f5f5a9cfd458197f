#pragma once

// The pipe protocol between cricketd's HttpClient and cricket-fetch, the helper process that
// runs each HTTP request with libcurl (see fetch_main.cc for why it is a process of its own).
//
// Every message is a frame: one type byte, the payload's length as 4 bytes little-endian, the
// payload. The helper's stdin and stdout are one end of a socket pair. cricketd writes kRequest
// (the request as JSON) and kRequestBody (the bytes of a POST/PUT body given in memory) and
// shuts its side down for writing; a PUT body from a file is the helper's fd 3. The helper
// answers with kHead (status and headers, before the first body byte), kBody chunks, then
// exactly one of kDone (the final status, headers and effective URL) or kError (a Code and a
// message).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/http_message.h"

namespace cricket::storage {

enum class FrameType : char {
  kRequest = 'R',
  kRequestBody = 'P',
  kHead = 'H',
  kBody = 'B',
  kDone = 'Z',
  kError = 'E',
};

struct Frame {
  FrameType type = FrameType::kError;
  std::string payload;
};

// A frame's payload is at most this long: request bodies given in memory are manifests and
// tokens, blobs are streamed in chunks of curl's buffer size.
inline constexpr uint32_t kMaxFramePayload = 64u << 20;

// The helper's fd for a PUT body read from a file.
inline constexpr int kFetchUploadFd = 3;

// Writes one frame, retrying short writes and EINTR. kUnavailable when the reader is gone.
Result<void> WriteFrame(int fd, FrameType type, std::string_view payload);

// Reads one frame, waiting at most until `deadline`. kDeadlineExceeded when it passes,
// kUnavailable at end of stream (the writer exited), kDataLoss for a malformed frame.
Result<Frame> ReadFrame(int fd, Deadline deadline = Deadline::max());

// The request as the helper needs it: the deadline travels as milliseconds left, an upload fd
// as "read fd 3". The in-memory body is sent in its own frame, not in the JSON.
std::string EncodeRequest(const HttpRequest& request, std::chrono::steady_clock::time_point now);
Result<HttpRequest> DecodeRequest(std::string_view json, std::chrono::steady_clock::time_point now);

// Status, headers and effective URL of a response (never its body).
std::string EncodeHead(const HttpResponse& response);
Result<HttpResponse> DecodeHead(std::string_view json);

std::string EncodeError(const Error& error);
Error DecodeError(std::string_view json);

}  // namespace cricket::storage
