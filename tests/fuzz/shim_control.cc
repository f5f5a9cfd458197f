// The shim control protocol as cricketd reads it: the input is everything a shim writes back
// on a control connection (length-prefixed JSON frames), served by a fake shim on a unix socket
// to the real ShimClient, whose Status and Wait calls decode the reply.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "shim/shim_client.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct FakeShim {
  std::string path;
  int listen_fd = -1;
};

const FakeShim& Shim() {
  static const FakeShim shim = [] {
    FakeShim s;
    char dir[] = "/tmp/cricket-fuzz-shim-XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != nullptr);
    s.path = std::string(dir) + "/control.sock";
    s.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, s.path.c_str(), sizeof(addr.sun_path) - 1);
    FUZZ_CHECK(bind(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    FUZZ_CHECK(listen(s.listen_fd, 4) == 0);
    return s;
  }();
  return shim;
}

// Answers `connections` requests with `reply`, byte for byte, then closes each connection.
void Serve(int listen_fd, const std::string& reply, int connections) {
  for (int i = 0; i < connections; ++i) {
    int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      return;
    }
    (void)!send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
    close(conn);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FakeShim& shim = Shim();
  std::string reply(reinterpret_cast<const char*>(data), size);
  std::thread server(Serve, shim.listen_fd, reply, 2);
  cricket::shim::ShimClient client(shim.path);
  (void)client.Status();
  (void)client.Wait(std::chrono::seconds(5));
  server.join();
  return 0;
}
