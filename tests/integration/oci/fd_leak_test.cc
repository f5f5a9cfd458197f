// CVE-2024-21626 class: process.cwd = /proc/self/fd/N must never put the container's process in
// a directory of the host through a fd the init still holds, for create, for exec and through
// cricket-runtime's command line. And a container's process starts with fds 0-2 and the
// preserved ones only (issue 13, items 1 and 7).
//
// The test process itself holds a directory fd of the host (what the shim or any caller of the
// library may hold: the cgroup directory of CLONE_INTO_CGROUP on cgroup v2, for one): every N
// from 3 to 64 is tried, which covers it and every fd the init opens.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

constexpr int kFirstFd = 3;
constexpr int kLastFd = 64;

class FdLeakTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (::geteuid() != 0) {
      return;
    }
    marker_dir_ = std::make_unique<cricket::testing::TempDir>("marker");
    secret_ = "crtest-secret-" + std::to_string(::getpid());
    std::ofstream(marker_dir_->Join("secret")) << secret_ << "\n";
    // The host directory the init would inherit (CLOEXEC changes nothing before execve).
    host_dir_ =
        UniqueFd(::open(marker_dir_->path().c_str(),  // NOLINT(cppcoreguidelines-pro-type-vararg)
                        O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(host_dir_.valid());
  }

  static std::string Cwd(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

  // Reads the secret from the working directory, or from the host's /tmp reached by climbing
  // out of it (a cwd outside the root has no root to stop "..").
  std::string Script(const std::string& out) const {
    return "cat secret ../../../../../../../../../../.." + marker_dir_->path() + "/secret > /out/" +
           out + " 2>/dev/null; ls ../../../../../../../../../.. >> /out/" + out +
           " 2>/dev/null; true";
  }

  // A refusal must name the cwd; a process that did run must not have seen the host.
  void ExpectNoEscape(const std::string& what, const std::string& out) {
    std::string seen = ReadOut(out);
    EXPECT_EQ(seen.find(secret_), std::string::npos) << what << " read the host's " << seen;
    EXPECT_EQ(seen.find("crtest-"), std::string::npos) << what << " listed the host's /tmp";
  }

  std::unique_ptr<cricket::testing::TempDir> marker_dir_;
  std::string secret_;
  UniqueFd host_dir_;
};

TEST_F(FdLeakTest, CreateWithCwdThroughAnInheritedFdIsRefused) {
  CR_REQUIRE_ROOT();
  for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
    std::string out = "create" + std::to_string(fd);
    Spec spec = MakeSpec(Script(out));
    spec.process->cwd = Cwd(fd);
    WriteSpec(spec);
    std::string id = "fd" + std::to_string(fd);
    auto created = runtime_->Create(id, Opts());
    if (created.ok()) {
      ADD_FAILURE() << "cwd " << Cwd(fd) << " was accepted";
      ASSERT_TRUE(runtime_->Start(id).ok());
      (void)runtime_->Wait(created->pid);
      ASSERT_TRUE(runtime_->Delete(id, true).ok());
      ExpectNoEscape("create with cwd " + Cwd(fd), out);
      continue;
    }
    EXPECT_NE(created.error().message().find(Cwd(fd)), std::string::npos)
        << created.error().ToString();
  }
}

TEST_F(FdLeakTest, ExecWithCwdThroughAnInheritedFdIsRefused) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  WriteSpec(spec);
  auto created = runtime_->Create("fdexec", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("fdexec").ok());
  for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
    std::string out = "exec" + std::to_string(fd);
    Process p = *spec.process;
    p.args = {"sh", "-c", Script(out)};
    p.cwd = Cwd(fd);
    auto pid = runtime_->Exec("fdexec", p, {});
    if (pid.ok()) {
      ADD_FAILURE() << "exec with cwd " << Cwd(fd) << " was accepted";
      (void)runtime_->Wait(*pid);
      ExpectNoEscape("exec with cwd " + Cwd(fd), out);
      continue;
    }
    EXPECT_NE(pid.error().message().find(Cwd(fd)), std::string::npos) << pid.error().ToString();
  }
  ASSERT_TRUE(runtime_->Delete("fdexec", true).ok());
}

// Through the command line: the CLI's own fds (the cgroup directory on v2) and one its caller
// leaked without CLOEXEC.
TEST_F(FdLeakTest, CliRunAndExecWithCwdThroughAFdAreRefused) {
  CR_REQUIRE_ROOT();
  UniqueFd leaked(::open(marker_dir_->path().c_str(),
                         O_RDONLY | O_DIRECTORY));  // NOLINT: no CLOEXEC on purpose
  ASSERT_TRUE(leaked.valid());
  auto cli = [&](const std::string& args) {
    std::string cmd = std::string(CRICKET_RUNTIME_BIN) + " --root " + root_->path() + " " + args +
                      " </dev/null >" + out_->Join("cli.out") + " 2>&1";
    int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): the test drives the CLI
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  constexpr int kLastCliFd = 10;  // the CLI holds a handful; each try is a process
  for (int fd = kFirstFd; fd <= kLastCliFd; ++fd) {
    std::string out = "run" + std::to_string(fd);
    Spec spec = MakeSpec(Script(out));
    spec.process->cwd = Cwd(fd);
    WriteSpec(spec);
    EXPECT_NE(cli("run --bundle " + bundle_->path() + " clifd"), 0) << "cwd " << Cwd(fd);
    EXPECT_NE(ReadOut("cli.out").find(Cwd(fd)), std::string::npos) << ReadOut("cli.out");
    EXPECT_EQ(cli("delete --force clifd"), 0);
    ExpectNoEscape("cricket-runtime run with cwd " + Cwd(fd), out);
  }
  WriteSpec(MakeSpec("sleep 100"));
  ASSERT_EQ(cli("run -d --bundle " + bundle_->path() + " clifdexec"), 0) << ReadOut("cli.out");
  for (int fd = kFirstFd; fd <= kLastCliFd; ++fd) {
    std::string out = "cliexec" + std::to_string(fd);
    EXPECT_NE(cli("exec --cwd " + Cwd(fd) + " clifdexec sh -c '" + Script(out) + "'"), 0)
        << "exec with cwd " << Cwd(fd);
    EXPECT_NE(ReadOut("cli.out").find(Cwd(fd)), std::string::npos) << ReadOut("cli.out");
    ExpectNoEscape("cricket-runtime exec with cwd " + Cwd(fd), out);
  }
  EXPECT_EQ(cli("delete --force clifdexec"), 0);
}

// Item 7: the container's first instruction sees 0-2 and the preserved fds, nothing else (ls
// itself holds the directory it reads: the highest number, one above the last listed fd).
TEST_F(FdLeakTest, ContainerStartsWithStdioAndPreservedFdsOnly) {
  CR_REQUIRE_ROOT();
  UniqueFd leaked(::open("/dev/null", O_RDONLY));  // NOLINT: no CLOEXEC on purpose
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);  // dup2 gives fd 3 without CLOEXEC
  UniqueFd keep_read(pipe_fds[0]);
  UniqueFd keep_write(pipe_fds[1]);
  int saved3 =
      ::fcntl(3, F_DUPFD_CLOEXEC, 10);  // NOLINT(cppcoreguidelines-pro-type-vararg): -1 when free
  ASSERT_EQ(::dup2(keep_write.get(), 3), 3);
  WriteSpec(MakeSpec("ls /proc/self/fd > /out/log"));
  auto cli = std::string(CRICKET_RUNTIME_BIN) + " --root " + root_->path() +
             " run --preserve-fds 1 --bundle " + bundle_->path() + " fdlist </dev/null >" +
             out_->Join("cli.out") + " 2>&1";
  int status = std::system(cli.c_str());  // NOLINT(cert-env33-c): the test drives the CLI
  if (saved3 >= 0) {
    ::dup2(saved3, 3);
    ::close(saved3);
  } else {
    ::close(3);
  }
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << ReadOut("cli.out");
  EXPECT_EQ(ReadOut("log"), "0\n1\n2\n3\n4\n");  // 4: ls's own directory fd

  // The library's caller (the shim) holds more; none of them reach the process.
  auto run = Run(MakeSpec("ls /proc/self/fd > /out/log"), "fdlist2");
  EXPECT_EQ(run.out, "0\n1\n2\n3\n");  // 3: ls's own
}

}  // namespace
}  // namespace cricket::oci::testing
