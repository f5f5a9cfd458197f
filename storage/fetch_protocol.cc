#include "storage/fetch_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace cricket::storage {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

bool IsFrameType(char c) {
  switch (static_cast<FrameType>(c)) {
    case FrameType::kRequest:
    case FrameType::kRequestBody:
    case FrameType::kHead:
    case FrameType::kBody:
    case FrameType::kDone:
    case FrameType::kError:
      return true;
  }
  return false;
}

// Waits until `fd` is readable or `deadline` passes.
Result<void> WaitReadable(int fd, Deadline deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != Deadline::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        return Error(Code::kDeadlineExceeded, "deadline exceeded");
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000));
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) {
      return Ok();
    }
    if (n < 0 && errno != EINTR) {
      return Error::FromErrno(errno, "poll fetch pipe");
    }
  }
}

// Reads exactly `size` bytes. kUnavailable at end of stream.
Result<void> ReadExactly(int fd, char* out, size_t size, Deadline deadline) {
  size_t done = 0;
  while (done < size) {
    CR_RETURN_IF_ERROR(WaitReadable(fd, deadline));
    ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n < 0 && errno != ECONNRESET) {  // a peer that exited leaving our writes unread
      return Error::FromErrno(errno, "read fetch pipe");
    }
    if (n <= 0) {
      return Error(Code::kUnavailable, done == 0 ? "end of stream" : "stream ended inside a frame");
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace

Result<void> WriteFrame(int fd, FrameType type, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) {
    return Error(Code::kResourceExhausted,
                 "frame of " + std::to_string(payload.size()) + " bytes is too large");
  }
  const auto size = static_cast<uint32_t>(payload.size());
  const char header[5] = {static_cast<char>(type), static_cast<char>(size & 0xff),
                          static_cast<char>(size >> 8 & 0xff), static_cast<char>(size >> 16 & 0xff),
                          static_cast<char>(size >> 24 & 0xff)};
  for (std::string_view part : {std::string_view(header, sizeof header), payload}) {
    while (!part.empty()) {
      // send() on the socket to cricket-fetch: MSG_NOSIGNAL, so a helper that died is an
      // error here and no SIGPIPE in a process that did not ignore it; write() on a pipe.
      ssize_t n = ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == ENOTSOCK) {
        n = ::write(fd, part.data(), part.size());
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return Error(errno == EPIPE ? Code::kUnavailable : CodeFromErrno(errno),
                     std::string("write fetch pipe: ") + ::strerror(errno), errno);
      }
      part.remove_prefix(static_cast<size_t>(n));
    }
  }
  return Ok();
}

Result<Frame> ReadFrame(int fd, Deadline deadline) {
  char header[5];
  CR_RETURN_IF_ERROR(ReadExactly(fd, header, sizeof header, deadline));
  if (!IsFrameType(header[0])) {
    return Error(Code::kDataLoss, "fetch pipe: unknown frame type " +
                                      std::to_string(static_cast<unsigned char>(header[0])));
  }
  uint32_t size = 0;
  for (int i = 4; i >= 1; --i) {
    size = size << 8 | static_cast<unsigned char>(header[i]);
  }
  if (size > kMaxFramePayload) {
    return Error(Code::kDataLoss, "fetch pipe: frame of " + std::to_string(size) + " bytes");
  }
  Frame frame;
  frame.type = static_cast<FrameType>(header[0]);
  frame.payload.resize(size);
  auto read = ReadExactly(fd, frame.payload.data(), size, deadline);
  if (!read.ok()) {
    return read.error().code() == Code::kUnavailable
               ? Error(Code::kDataLoss, "fetch pipe: stream ended inside a frame")
               : read.error();
  }
  return frame;
}

std::string EncodeRequest(const HttpRequest& request, Clock::time_point now) {
  json j = {{"method", request.method},
            {"url", request.url},
            {"headers", request.headers},
            {"basic_auth", request.basic_auth},
            {"skip_tls_verify", request.skip_tls_verify},
            {"range_from", request.range_from},
            {"low_speed_bytes", request.low_speed_bytes},
            {"low_speed_seconds", request.low_speed_seconds}};
  if (request.upload_fd >= 0) {
    j["upload_size"] = request.upload_size;
  }
  if (request.deadline != Deadline::max()) {
    j["deadline_ms"] = std::max<int64_t>(
        1, std::chrono::ceil<std::chrono::milliseconds>(request.deadline - now).count());
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<HttpRequest> DecodeRequest(std::string_view text, Clock::time_point now) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Error(Code::kInvalidArgument, "fetch request is not a JSON object");
  }
  try {
    HttpRequest request;
    request.method = j.at("method").get<std::string>();
    request.url = j.at("url").get<std::string>();
    request.headers = j.at("headers").get<std::vector<std::string>>();
    request.basic_auth = j.at("basic_auth").get<std::string>();
    request.skip_tls_verify = j.at("skip_tls_verify").get<bool>();
    request.range_from = j.at("range_from").get<int64_t>();
    request.low_speed_bytes = j.at("low_speed_bytes").get<long>();
    request.low_speed_seconds = j.at("low_speed_seconds").get<long>();
    if (j.contains("upload_size")) {
      request.upload_fd = kFetchUploadFd;
      request.upload_size = j.at("upload_size").get<int64_t>();
    }
    if (j.contains("deadline_ms")) {
      request.deadline = now + std::chrono::milliseconds(j.at("deadline_ms").get<int64_t>());
    }
    return request;
  } catch (const json::exception& e) {
    return Error(Code::kInvalidArgument, std::string("fetch request: ") + e.what());
  }
}

std::string EncodeHead(const HttpResponse& response) {
  json headers = json::array();
  for (const auto& [name, value] : response.headers) {
    headers.push_back({name, value});
  }
  return json{{"status", response.status},
              {"headers", std::move(headers)},
              {"effective_url", response.effective_url}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<HttpResponse> DecodeHead(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Error(Code::kDataLoss, "fetch response head is not a JSON object");
  }
  try {
    HttpResponse response;
    response.status = j.at("status").get<long>();
    response.effective_url = j.at("effective_url").get<std::string>();
    for (const auto& header : j.at("headers")) {
      response.headers.emplace(header.at(0).get<std::string>(), header.at(1).get<std::string>());
    }
    return response;
  } catch (const json::exception& e) {
    return Error(Code::kDataLoss, std::string("fetch response head: ") + e.what());
  }
}

std::string EncodeError(const Error& error) {
  return json{{"code", static_cast<int>(error.code())}, {"message", error.message()}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

Error DecodeError(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("code", 0) > 0 && j.value("code", 0) <= 16 &&
      j.contains("message") && j["message"].is_string()) {
    return Error(static_cast<Code>(j["code"].get<int>()), j["message"].get<std::string>());
  }
  return Error(Code::kDataLoss, "fetch helper sent a malformed error");
}

}  // namespace cricket::storage
