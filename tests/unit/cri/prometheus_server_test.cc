// The /metrics HTTP endpoint on a unix socket in a temp dir and on loopback port 0, and the
// [metrics] address key.

#include "cri/prometheus_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cri/config.h"
#include "cri/config_reload.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unix_http.h"

namespace cricket::cri::prometheus {
namespace {

using ::cricket::testing::TempDir;

std::string OverUnix(const std::string& path, const std::string& request) {
  return ::cricket::testing::UnixHttpExchange(path, request);
}

std::string OverTcp(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0) << errno;
  return ::cricket::testing::HttpExchangeOnFd(fd, request);
}

TEST(MetricsServerTest, ServesMetricsOnlyAndAnswersOthersPrecisely) {
  TempDir dir;
  const std::string path = dir.Join("metrics.sock");
  int renders = 0;
  auto server = MetricsServer::Start(MetricsAddress::Unix(path), [&] {
    ++renders;
    return std::string("# TYPE up gauge\nup 1\n");
  });
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  EXPECT_EQ((*server)->address(), "unix://" + path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  std::string ok = OverUnix(path, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(ok.find("Content-Length: 21\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\n# TYPE up gauge\nup 1\n")) << ok;
  EXPECT_TRUE(OverUnix(path, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_EQ(renders, 2);

  EXPECT_TRUE(OverUnix(path, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 Not Found"));
  EXPECT_TRUE(
      OverUnix(path, "GET /metricsx HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 Not Found"));
  std::string post = OverUnix(path, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_TRUE(OverUnix(path, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(OverUnix(path, std::string(9000, 'a')).starts_with("HTTP/1.1 400"));
  std::string head = OverUnix(path, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n")) << head;
  EXPECT_EQ(renders, 3);

  server->reset();
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the socket file goes with the server";
}

TEST(MetricsServerTest, LoopbackPortZeroPicksAPortAndAStaleSocketIsReplaced) {
  auto tcp = MetricsServer::Start(MetricsAddress::Tcp("127.0.0.1", 0), [] { return "# x\n"; });
  ASSERT_TRUE(tcp.ok()) << tcp.error().ToString();
  ASSERT_NE((*tcp)->port(), 0);
  EXPECT_EQ((*tcp)->address(), "127.0.0.1:" + std::to_string((*tcp)->port()));
  EXPECT_TRUE(OverTcp((*tcp)->port(), "GET /metrics HTTP/1.1\r\n\r\n").ends_with("\r\n\r\n# x\n"));
  // The same port twice: the second is refused, naming the address.
  auto again = MetricsServer::Start(MetricsAddress::Tcp("127.0.0.1", (*tcp)->port()),
                                    [] { return std::string(); });
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("127.0.0.1:"), std::string::npos);

  TempDir dir;
  const std::string path = dir.Join("m.sock");
  {
    auto first = MetricsServer::Start(MetricsAddress::Unix(path), [] { return std::string(); });
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);  // a socket file left by a crash
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof(sun.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
  ::close(fd);
  auto second =
      MetricsServer::Start(MetricsAddress::Unix(path), [] { return std::string("# y\n"); });
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_TRUE(OverUnix(path, "GET /metrics HTTP/1.1\r\n\r\n").ends_with("# y\n"));
  // A regular file at the path is not ours to replace.
  const std::string file = dir.Join("file");
  ASSERT_TRUE(WriteFileAtomic(file, "keep", 0644).ok());
  auto refused = MetricsServer::Start(MetricsAddress::Unix(file), [] { return std::string(); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(ReadFile(file).value_or(""), "keep");
}

TEST(MetricsConfigTest, AddressFormsAndBadValuesNamingTheKey) {
  auto tcp = ParseMetricsAddress("127.0.0.1:9377");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 9377);
  auto v6 = ParseMetricsAddress("[::1]:9377");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(ParseMetricsAddress("unix:///run/m.sock")->path, "/run/m.sock");
  EXPECT_EQ(ParseMetricsAddress("/run/m.sock")->path, "/run/m.sock");
  for (const char* bad : {"localhost:9377", "9377", ":9377", "127.0.0.1:99999", "unix://m.sock",
                          "unix:/x", "unix://", "http://127.0.0.1:9377", "relative/path"}) {
    auto parsed = ParseMetricsAddress(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
      EXPECT_NE(parsed.error().message().find(bad), std::string::npos) << parsed.error().message();
    }
  }
  EXPECT_FALSE(ParseMetricsAddress("/" + std::string(120, 'x')).ok());

  Config config;
  EXPECT_TRUE(config.metrics.address.empty()) << "off by default";
  EXPECT_TRUE(ApplyConfigToml("[metrics]\naddress = \"127.0.0.1:9377\"\n", "c.toml", config).ok());
  EXPECT_EQ(config.metrics.address, "127.0.0.1:9377");
  EXPECT_NE(ConfigToToml(config).find("[metrics]\naddress = \"127.0.0.1:9377\""), std::string::npos)
      << ConfigToToml(config);
  auto bad = ApplyConfigToml("[metrics]\naddress = \"localhost:1\"\n", "c.toml", config);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(bad.error().message().starts_with("c.toml: metrics.address: "))
      << bad.error().message();
  auto unknown = ApplyConfigToml("[metrics]\nport = 1\n", "c.toml", config);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("metrics.port: unknown key"), std::string::npos)
      << unknown.error().message();
  auto wrong_type = ApplyConfigToml("[metrics]\naddress = 9377\n", "c.toml", config);
  EXPECT_FALSE(wrong_type.ok());
  EXPECT_EQ(config.metrics.address, "127.0.0.1:9377") << "a refused value changes nothing";
}

TEST(MetricsConfigTest, SighupReportsAnAddressChangeAsNeedingARestart) {
  Config running;
  Config next;
  next.metrics.address = "127.0.0.1:9377";
  auto changes = DiffConfigs(running, next);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "metrics.address");
  EXPECT_FALSE(changes[0].reloadable);
  CarryReloadable(next, running);
  EXPECT_EQ(running.metrics.address, "") << "the running server keeps its address";
}

}  // namespace
}  // namespace cricket::cri::prometheus
