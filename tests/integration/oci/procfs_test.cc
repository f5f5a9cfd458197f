// /proc as a mount target and as the place the init writes to (CVE-2019-16884 class): the init
// writes sysctls and the LSM attribute and masks paths only through a verified procfs, follows no
// symlink of the image while doing so, and refuses mounts that an image symlink leads into /proc.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/files.h"
#include "oci/child_init.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class ProcfsTest : public ContainerTest {
 protected:
  // Create must fail with kInvalidArgument naming `what`, leaving no container behind.
  void ExpectCreateRefused(const Spec& spec, const std::string& what) {
    WriteSpec(spec);
    auto created = runtime_->Create("bad", Opts());
    ASSERT_FALSE(created.ok()) << "create succeeded; expected a refusal naming " << what;
    EXPECT_EQ(created.error().code(), Code::kInvalidArgument) << created.error().ToString();
    EXPECT_NE(created.error().message().find(what), std::string::npos) << created.error().message();
    EXPECT_FALSE(std::filesystem::exists(root_->Join("bad")));
  }
};

std::string FirstLine(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? text->substr(0, text->find('\n')) : "";
}

// kernel.panic is the node's: refused before anything runs (written with the node's own value,
// so that a runtime without the check changes nothing when this test fails).
TEST_F(ProcfsTest, NodeWideSysctlFailsCreate) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.linux->sysctl["kernel.panic"] = FirstLine("/proc/sys/kernel/panic");
  ExpectCreateRefused(spec,
                      "linux.sysctl[\"kernel.panic\"]: sysctl \"kernel.panic\" is not namespaced");
}

// A masked path that is a symlink is an error, not masked at wherever it points.
TEST_F(ProcfsTest, MaskedSymlinkIsNotFollowed) {
  CR_REQUIRE_ROOT();
  std::ofstream(rootfs_ + "/etc/secret") << "secret\n";
  std::filesystem::create_symlink("/etc/secret", rootfs_ + "/masklink");
  Spec spec = MakeSpec("cat /etc/secret > /out/log");
  spec.linux->masked_paths.push_back("/masklink");
  ExpectCreateRefused(spec, "mask /masklink: a symlink on the way (not followed)");
}

// CVE-2019-16884: the image has /evil -> /proc; a bind at /evil after the proc mount would put
// a directory of the image over the container's procfs, and the LSM profile and sysctls would be
// written to its plain files.
TEST_F(ProcfsTest, MountThroughSymlinkIntoProcIsRefused) {
  CR_REQUIRE_ROOT();
  std::filesystem::create_directories(rootfs_ + "/fakeproc/self/attr");
  std::filesystem::create_symlink("/proc", rootfs_ + "/evil");
  Spec spec = MakeSpec("true");
  spec.mounts.push_back(Mount{"/evil", "bind", rootfs_ + "/fakeproc", {"rbind"}, {}, {}});
  ExpectCreateRefused(spec, "/evil: the destination resolves into the container's procfs");
}

// Without a procfs at /proc (no proc mount; the image ships a look-alike tree) a sysctl is not
// written into the image's plain file.
TEST_F(ProcfsTest, SysctlRefusedWhenProcIsNotProcfs) {
  CR_REQUIRE_ROOT();
  std::filesystem::create_directories(rootfs_ + "/proc/sys/net/ipv4");
  std::ofstream(rootfs_ + "/proc/sys/net/ipv4/ip_forward") << "0\n";
  Spec spec = MakeSpec("true");
  std::erase_if(spec.mounts, [](const Mount& m) { return m.destination == "/proc"; });
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  ExpectCreateRefused(spec, "open /proc in the container for its sysctls: not on procfs");
  EXPECT_EQ(FirstLine(rootfs_ + "/proc/sys/net/ipv4/ip_forward"), "0");
}

// The init's LSM write (no LSM runs on most test nodes, so it is called directly): in a mount
// namespace whose /proc is a directory laid out like procfs, it refuses instead of writing the
// profile into the plain file.
TEST_F(ProcfsTest, LsmAttributeIsNotWrittenToAFakeProc) {
  CR_REQUIRE_ROOT();
  for (const char* dir : {"/proc/self/attr", "/proc/1/task/1/attr", "/proc/thread-self/attr"}) {
    std::filesystem::create_directories(rootfs_ + dir);
    std::ofstream(rootfs_ + dir + "/exec") << "unconfined\n";
  }
  ChildPlan plan;
  plan.lsm_attr_path = "attr/exec";
  plan.lsm_attr_value = "exec cricket-default";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Only async-signal-safe calls: the test binary may have threads.
    if (::unshare(CLONE_NEWNS) < 0 ||
        ::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0 ||
        ::chroot(rootfs_.c_str()) < 0 || ::chdir("/") < 0) {
      ::_exit(2);
    }
    ChildReport report;
    bool ok = child_internal::WriteLsmAttr(plan, report);
    ::_exit(ok ? 0 : report.err == EXDEV ? 1 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << "0: written to the fake /proc; 1: refused (EXDEV)";
  for (const char* dir : {"/proc/self/attr", "/proc/1/task/1/attr", "/proc/thread-self/attr"}) {
    EXPECT_EQ(FirstLine(rootfs_ + dir + "/exec"), "unconfined") << dir;
  }
}

// The checks keep the legitimate cases working: a sysctl of the container's own network
// namespace, a masked file and directory, an lxcfs-style bind over a /proc file.
TEST_F(ProcfsTest, NamespacedSysctlMasksAndLxcfsBindStillWork) {
  CR_REQUIRE_ROOT();
  std::ofstream(rootfs_ + "/etc/fake-meminfo") << "MemTotal: 1 kB\n";
  Spec spec = MakeSpec(
      "cat /proc/sys/net/ipv4/ip_forward > /out/log; wc -c < /proc/version >> /out/log; "
      "ls /proc/acpi 2>/dev/null | wc -l >> /out/log; head -1 /proc/meminfo >> /out/log");
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  spec.linux->masked_paths = {"/proc/version", "/proc/acpi", "/proc/nonexistent"};
  spec.mounts.push_back(
      Mount{"/proc/meminfo", "bind", rootfs_ + "/etc/fake-meminfo", {"bind", "ro"}, {}, {}});
  auto result = Run(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "1\n0\n0\nMemTotal: 1 kB\n");
}

}  // namespace
}  // namespace cricket::oci::testing
