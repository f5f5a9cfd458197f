#pragma once

// FakeRegistry: a tiny HTTP/1.1 server on 127.0.0.1 for registry-client tests that a real
// registry cannot stage (bearer tokens, a connection dropped mid-blob). One request per
// connection. Serves an OCI image layout directory (manifests by tag "latest" or digest, blobs),
// behind a handler that may answer first.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cricket::storage::testing {

struct FakeRequest {
  std::string method;
  std::string path;                            // with query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct FakeResponse {
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  // Send only this many body bytes, then close (with the full Content-Length announced).
  long drop_after = -1;
  // Wait this long after the (possibly cut) body before closing the connection.
  int stall_ms = 0;
  // A slow link: the body in pieces of this many bytes, `piece_pause_ms` apart (0: at once).
  size_t piece_bytes = 0;
  int piece_pause_ms = 0;
};

class FakeRegistry {
 public:
  // Returns true and fills `out` to answer a request itself.
  using Handler = std::function<bool(const FakeRequest&, FakeResponse& out)>;

  // `layout` is an OCI image layout dir; `repo` the repository path it is served under.
  FakeRegistry(std::string layout, std::string repo, Handler handler);
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  // "127.0.0.1:<port>"
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> requests();

 private:
  void Serve();
  void HandleConnection(int fd);
  FakeResponse Answer(const FakeRequest& req);

  std::string layout_;
  std::string repo_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<FakeRequest> requests_;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace cricket::storage::testing
