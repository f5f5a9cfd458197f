// The runtime's own binary is out of a container's reach (the CVE-2019-5736 class): the code
// that runs in a container before its execve is a sealed copy (oci/cli_reexec.h), and the init
// is not dumpable. The tests run a COPY of cricket-runtime, so that a regression writes to the
// copy, never to the build's binary.

#include <fcntl.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "oci/spec_json.h"
#include "tests/integration/oci/container_fixture.h"
#include "tests/support/wait_until.h"

namespace cricket::oci::testing {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::WaitUntil;

class RuntimeBinaryTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (::geteuid() != 0) {
      return;
    }
    bin_ = std::make_unique<cricket::testing::TempDir>("bin");
    runtime_bin_ = bin_->Join("cricket-runtime");
    std::filesystem::copy_file(CRICKET_RUNTIME_BIN, runtime_bin_);
    original_ = ReadFile(runtime_bin_).value_or("");
    ASSERT_FALSE(original_.empty());
  }

  void TearDown() override {
    if (bin_ != nullptr) {
      (void)Cli("delete --force c1");
    }
    ContainerTest::TearDown();
  }

  // The copy, run like runc; output to a file (a created init keeps the CLI's stdio).
  int Cli(const std::string& args) {
    std::string cmd = runtime_bin_ + " --root " + root_->path() + " " + args + " </dev/null >" +
                      out_->Join("cli.out") + " 2>&1";
    int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): the test drives the CLI
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void ExpectBinaryUnchanged() {
    EXPECT_TRUE(ReadFile(runtime_bin_).value_or("") == original_)
        << "a container process wrote to the runtime's binary " << runtime_bin_;
  }

  // A fifo in the rootfs: the runtime binary, run as a container process with `--log FIFO
  // no-such-command`, blocks opening its log for writing until someone reads the fifo.
  std::string MakeLogFifo() {
    std::string fifo = rootfs_ + "/tmp/log.fifo";
    EXPECT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
    return fifo;
  }

  static std::string Readlink(const std::string& path) {
    std::error_code ec;
    return std::filesystem::read_symlink(path, ec).string();
  }

  std::unique_ptr<cricket::testing::TempDir> bin_;
  std::string runtime_bin_;
  std::string original_;
};

// The container's entrypoint is /proc/self/exe: the init execs whatever it is itself, so the
// container's pid 1 becomes the runtime's binary. The test (root, every capability: a stronger
// attacker than the container) keeps a read fd on it, lets it exit and reopens the fd for
// writing, as the CVE-2019-5736 exploit does.
TEST_F(RuntimeBinaryTest, EntrypointProcSelfExeIsASealedCopy) {
  CR_REQUIRE_ROOT();
  const std::string fifo = MakeLogFifo();
  Spec spec = MakeSpec("true");
  spec.process->args = {"/proc/self/exe", "--log", "/tmp/log.fifo", "no-such-command"};
  WriteSpec(spec);
  const std::string pid_file = out_->Join("pid");
  ASSERT_EQ(Cli("run -d --bundle " + bundle_->path() + " --pid-file " + pid_file + " c1"), 0)
      << ReadFile(out_->Join("cli.out")).value_or("");
  const std::string proc = "/proc/" + ReadFile(pid_file).value_or("0");
  WaitUntil([&] {
    return ReadFile(proc + "/cmdline").value_or("").find("no-such-command") != std::string::npos;
  });
  const std::string link = Readlink(proc + "/exe");
  EXPECT_NE(link, runtime_bin_) << "the container runs the host's file";
  UniqueFd held(::open((proc + "/exe").c_str(),
                       O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  ASSERT_TRUE(held.valid()) << link;
  // Reading the fifo lets it log its error and exit.
  UniqueFd reader(
      ::open(fifo.c_str(),
             O_RDONLY | O_NONBLOCK | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  WaitUntil([&] { return Readlink(proc + "/exe").empty(); });
  ASSERT_TRUE(Readlink(proc + "/exe").empty()) << "the runtime in the container did not exit";
  const std::string reopen = "/proc/self/fd/" + std::to_string(held.get());
  UniqueFd writer(
      ::open(reopen.c_str(),
             O_WRONLY | O_APPEND | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (writer.valid()) {  // a sealed memfd may be opened; it is never written
    EXPECT_EQ(::write(writer.get(), "pwned", 5), -1) << link << " was written";
  } else {
    EXPECT_TRUE(errno == EROFS || errno == EPERM || errno == EACCES || errno == ETXTBSY)
        << std::strerror(errno);
  }
  ExpectBinaryUnchanged();
}

// `exec` of /proc/self/exe (the exec child execs the runtime's own binary in the container),
// with the container's own shell as the attacker: it watches /proc for a process that is not
// busybox, keeps its exe open, releases it and, once it has exited, reopens it for appending.
TEST_F(RuntimeBinaryTest, ExecOfProcSelfExeGivesTheContainerNothingToWrite) {
  CR_REQUIRE_ROOT();
  MakeLogFifo();
  const std::string watcher = R"(
echo watching > /out/ready
while :; do
  for d in /proc/[0-9]*; do
    l=$(readlink $d/exe 2>/dev/null) || continue
    case "$l" in */busybox) continue ;; esac
    exec 3<$d/exe || continue
    echo "$l" > /out/link
    if (exec 4>>$d/exe) 2>/dev/null; then echo opened-while-running > /out/early; fi
    cat /tmp/log.fifo > /dev/null
    while readlink $d/exe >/dev/null 2>&1; do :; done
    if (exec 4>>/proc/self/fd/3 && echo pwned >&4) 2>/dev/null; then
      echo WROTE > /out/result
    else
      echo DENIED > /out/result
    fi
    exit 0
  done
done)";
  Spec spec = MakeSpec(watcher);
  WriteSpec(spec);
  Process exec = *spec.process;
  exec.args = {"/proc/self/exe", "--log", "/tmp/log.fifo", "no-such-command"};
  ASSERT_TRUE(WriteFileAtomic(out_->Join("process.json"), ProcessToJson(exec), 0644).ok());
  ASSERT_EQ(Cli("run -d --bundle " + bundle_->path() + " c1"), 0)
      << ReadFile(out_->Join("cli.out")).value_or("");
  WaitUntil([&] { return !ReadOut("ready").empty(); });
  ASSERT_EQ(Cli("exec -d --process " + out_->Join("process.json") + " c1"), 0)
      << ReadFile(out_->Join("cli.out")).value_or("");
  WaitUntil([&] { return !ReadOut("result").empty(); });
  EXPECT_EQ(ReadOut("result"), "DENIED\n") << "link: " << ReadOut("link");
  EXPECT_NE(ReadOut("link"), runtime_bin_ + "\n");
  EXPECT_EQ(ReadOut("early"), "");
  ExpectBinaryUnchanged();
}

// While the init waits for `start` it is still the runtime: a process of the container's pid
// namespace with the container's uid (0) but without CAP_SYS_PTRACE (the default capability
// set) cannot resolve /proc/<init>/exe.
TEST_F(RuntimeBinaryTest, CreatedInitIsNotDumpable) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("true"));
  const std::string pid_file = out_->Join("pid");
  ASSERT_EQ(Cli("create --bundle " + bundle_->path() + " --pid-file " + pid_file + " c1"), 0)
      << ReadFile(out_->Join("cli.out")).value_or("");
  const std::string pid = ReadFile(pid_file).value_or("0");
  const std::string exe = "/proc/" + pid + "/exe";
  UniqueFd pidns(::open(("/proc/" + pid + "/ns/pid").c_str(),
                        O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  ASSERT_TRUE(pidns.valid());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    cap_t caps = cap_get_proc();
    cap_value_t ptrace[] = {CAP_SYS_PTRACE};
    cap_set_flag(caps, CAP_EFFECTIVE, 1, ptrace, CAP_CLEAR);
    cap_set_flag(caps, CAP_PERMITTED, 1, ptrace, CAP_CLEAR);
    if (cap_set_proc(caps) != 0 || ::setns(pidns.get(), CLONE_NEWPID) != 0) {
      ::_exit(100);
    }
    pid_t inside = ::fork();  // the first process in the container's pid namespace
    if (inside == 0) {
      char buf[256];
      if (::readlink(exe.c_str(), buf, sizeof(buf)) >= 0) {
        ::_exit(0);
      }
      int readlink_errno = errno;
      int fd =
          ::open(exe.c_str(), O_PATH | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
      ::_exit(fd >= 0 ? 0 : readlink_errno);
    }
    int status = 0;
    ::waitpid(inside, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 101);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), EACCES)
      << "0: resolved " << exe << "; 100: could not drop CAP_SYS_PTRACE or join the pid namespace";
}

}  // namespace
}  // namespace cricket::oci::testing
