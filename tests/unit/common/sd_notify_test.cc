#include "common/sd_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

// A datagram socket bound at `name` (a path, or '@' for the abstract namespace), as systemd's.
UniqueFd Listen(const std::string& name) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.data(), name.size());
  socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
  if (name[0] == '@') {
    addr.sun_path[0] = '\0';
  } else {
    ++len;
  }
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << errno;
  return fd;
}

std::string Receive(int fd) {
  std::array<char, 256> buf{};
  ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  return n < 0 ? "<nothing: errno " + std::to_string(errno) + ">" : std::string(buf.data(), n);
}

TEST(SdNotifyTest, SendsTheStateToAPathSocket) {
  testing::TempDir dir("notify");
  const std::string path = dir.Join("notify.sock");
  UniqueFd listener = Listen(path);

  ASSERT_TRUE(SdNotifyTo(path, "READY=1").ok());

  EXPECT_EQ(Receive(listener.get()), "READY=1");
}

TEST(SdNotifyTest, SendsToAnAbstractSocketNamedWithAnAt) {
  const std::string name = "@crtest-" + std::to_string(::getpid()) + "-notify";
  UniqueFd listener = Listen(name);

  ASSERT_TRUE(SdNotifyTo(name, "STOPPING=1").ok());

  EXPECT_EQ(Receive(listener.get()), "STOPPING=1");
}

TEST(SdNotifyTest, ReadsTheSocketFromNotifySocket) {
  testing::TempDir dir("notify");
  const std::string path = dir.Join("n.sock");
  UniqueFd listener = Listen(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);

  auto sent = SdNotify("READY=1\nSTATUS=serving");
  ::unsetenv("NOTIFY_SOCKET");

  ASSERT_TRUE(sent.ok()) << sent.error().ToString();
  EXPECT_EQ(Receive(listener.get()), "READY=1\nSTATUS=serving");
}

TEST(SdNotifyTest, IsANoOpWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(SdNotify("READY=1").ok());
}

TEST(SdNotifyTest, RefusesARelativeAddressAndReportsAMissingSocket) {
  EXPECT_EQ(SdNotifyTo("relative.sock", "READY=1").error().code(), Code::kInvalidArgument);
  testing::TempDir dir("notify");
  EXPECT_EQ(SdNotifyTo(dir.Join("absent.sock"), "READY=1").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket
