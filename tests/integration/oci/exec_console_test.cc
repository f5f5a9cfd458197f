#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "oci/console_socket.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class ExecConsoleTest : public ContainerTest {
 protected:
  // A listening unix socket at dir/console.sock.
  UniqueFd Listen(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);  // NOLINT
    EXPECT_EQ(::listen(fd.get(), 1), 0);
    return fd;
  }
  std::string ReadAll(int fd) {
    std::string out;
    char buf[256];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

TEST_F(ExecConsoleTest, ExecSeesTheContainersNamespaces) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  spec.hostname = "execbox";
  WriteSpec(spec);
  auto created = runtime_->Create("ex", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("ex").ok());
  WaitUntilExecd(created->pid);
  Process p = *spec.process;
  p.args = {"sh", "-c", "hostname > /out/exec; readlink /proc/1/exe >> /out/exec; "
                        "ls /sys/class/net >> /out/exec; echo $$ >> /out/exec"};
  auto pid = runtime_->Exec("ex", p, {});
  ASSERT_TRUE(pid.ok()) << pid.error().ToString();
  EXPECT_EQ(runtime_->Wait(*pid).value_or(-1), 0);
  std::string out = ReadOut("exec");
  EXPECT_EQ(out.rfind("execbox\n/bin/busybox\nlo\n", 0), 0u) << out;
  EXPECT_NE(out.substr(out.rfind('\n', out.size() - 2) + 1), "1\n");  // not the init
  ASSERT_TRUE(runtime_->Delete("ex", true).ok());
}

TEST_F(ExecConsoleTest, ExecOfMissingBinaryIsAClearError) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  WriteSpec(spec);
  ASSERT_TRUE(runtime_->Create("ex2", Opts()).ok());
  Process p = *spec.process;
  p.args = {"nope"};
  EXPECT_EQ(runtime_->Exec("ex2", p, {}).error().code(), Code::kFailedPrecondition);  // created
  ASSERT_TRUE(runtime_->Start("ex2").ok());
  auto pid = runtime_->Exec("ex2", p, {});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.error().message().find("find executable \"nope\""), std::string::npos);
}

TEST_F(ExecConsoleTest, StdioFromTheCallerAndNoLeakedFds) {
  CR_REQUIRE_ROOT();
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  UniqueFd leaked(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC on purpose
  WriteSpec(MakeSpec("echo piped; ls /proc/self/fd | wc -l"));
  CreateOptions options = Opts();
  options.stdio.stdout_fd = write_end.get();
  auto created = runtime_->Create("stdio", options);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  write_end.Reset();
  ASSERT_TRUE(runtime_->Start("stdio").ok());
  EXPECT_EQ(runtime_->Wait(created->pid).value_or(-1), 0);
  // 0, 1, 2 and the directory ls reads: the test's own fds did not reach the container.
  EXPECT_EQ(ReadAll(read_end.get()), "piped\n4\n");
}

TEST_F(ExecConsoleTest, ExecWithATerminal) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  WriteSpec(spec);
  auto created = runtime_->Create("extty", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("extty").ok());
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  Process p = *spec.process;
  p.terminal = true;
  p.args = {"sh", "-c", "tty; echo exec-tty"};
  ExecOptions options;
  options.console_fd = theirs.get();
  auto pid = runtime_->Exec("extty", p, options);
  ASSERT_TRUE(pid.ok()) << pid.error().ToString();
  theirs.Reset();
  auto master = ReceiveFd(ours.get());
  ASSERT_TRUE(master.ok()) << master.error().ToString();
  EXPECT_EQ(runtime_->Wait(*pid).value_or(-1), 0);
  std::string output = ReadAll(master->get());
  EXPECT_NE(output.find("/dev/pts/"), std::string::npos) << output;
  EXPECT_NE(output.find("exec-tty\r\n"), std::string::npos) << output;
  ASSERT_TRUE(runtime_->Delete("extty", true).ok());
}

TEST_F(ExecConsoleTest, TerminalOutputArrivesThroughTheConsoleSocket) {
  CR_REQUIRE_ROOT();
  std::string sock_path = out_->Join("console.sock");
  UniqueFd listener = Listen(sock_path);
  Spec spec = MakeSpec("echo hello-tty; tty > /out/log");
  spec.process->terminal = true;
  WriteSpec(spec);
  auto created = runtime_->Create("tty", {bundle_->path(), sock_path, {}});
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  auto master = ReceiveFd(conn.get());
  ASSERT_TRUE(master.ok()) << master.error().ToString();
  ASSERT_TRUE(runtime_->Start("tty").ok());
  EXPECT_EQ(runtime_->Wait(created->pid).value_or(-1), 0);
  std::string output = ReadAll(master->get());  // EIO once the slave side is gone
  EXPECT_NE(output.find("hello-tty\r\n"), std::string::npos) << output;
  EXPECT_EQ(ReadOut("log").rfind("/dev/pts/", 0), 0u) << ReadOut("log");
}

}  // namespace
}  // namespace cricket::oci::testing
