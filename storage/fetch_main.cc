// cricket-fetch: runs one HTTP request for cricketd's HttpClient (the protocol is in
// fetch_protocol.h) and exits.
//
// Why a process of its own: libcurl brings some thirty shared libraries (GnuTLS, Kerberos,
// LDAP, ICU through libxml2, ...) whose pages and constructors cost cricketd ~6 MiB of
// resident memory for its whole life, although it only needs them while it pulls an image or
// publishes a snapshot. Here they live only as long as the request. It also keeps the HTTP
// stack's parsing of what a remote server sends out of the daemon.

#include <signal.h>
#include <unistd.h>

#include "storage/curl_fetch.h"
#include "storage/fetch_protocol.h"

namespace cricket::storage {
namespace {

Result<HttpRequest> ReadRequest() {
  CR_ASSIGN_OR_RETURN(Frame first, ReadFrame(STDIN_FILENO));
  if (first.type != FrameType::kRequest) {
    return Error(Code::kInvalidArgument, "fetch: the first frame is not a request");
  }
  CR_ASSIGN_OR_RETURN(HttpRequest request,
                      DecodeRequest(first.payload, std::chrono::steady_clock::now()));
  auto body = ReadFrame(STDIN_FILENO);
  if (body.ok() && body->type == FrameType::kRequestBody) {
    request.body = std::move(body->payload);
  } else if (body.ok() || body.error().code() != Code::kUnavailable) {
    return Error(Code::kInvalidArgument, "fetch: expected a request body or the end of stdin");
  }
  return request;
}

int Run() {
  ::signal(SIGPIPE, SIG_IGN);  // a reader that went away is a write error, not a death
  auto request = ReadRequest();
  if (!request.ok()) {
    return WriteFrame(STDOUT_FILENO, FrameType::kError, EncodeError(request.error())).ok() ? 0 : 1;
  }
  bool head_sent = false;
  BodySink forward = [&](const HttpResponse& head, std::string_view chunk) -> Result<void> {
    if (!head_sent) {
      CR_RETURN_IF_ERROR(WriteFrame(STDOUT_FILENO, FrameType::kHead, EncodeHead(head)));
      head_sent = true;
    }
    return WriteFrame(STDOUT_FILENO, FrameType::kBody, chunk);
  };
  auto response = CurlFetch(*request, forward, 0);
  auto sent = response.ok()
                  ? WriteFrame(STDOUT_FILENO, FrameType::kDone, EncodeHead(*response))
                  : WriteFrame(STDOUT_FILENO, FrameType::kError, EncodeError(response.error()));
  return sent.ok() ? 0 : 1;
}

}  // namespace
}  // namespace cricket::storage

int main() { return cricket::storage::Run(); }
