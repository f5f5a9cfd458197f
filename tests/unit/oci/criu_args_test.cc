#include "oci/criu_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/criu.h"

namespace cricket::oci {
namespace {

using ::testing::Contains;
using ::testing::Not;

// The pair `flag value` appears in `args`, in that order.
bool HasPair(const std::vector<std::string>& args, const std::string& flag,
             const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag && args[i + 1] == value) {
      return true;
    }
  }
  return false;
}

Spec PodContainerSpec() {
  Spec spec;
  spec.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  spec.mounts.push_back({"/etc/hosts", "bind", "/run/pod/hosts", {"rbind", "ro"}, {}, {}});
  spec.mounts.push_back({"/data", "", "/var/vol", {"bind"}, {}, {}});
  return spec;
}

TEST(CriuArgsTest, DumpDeclaresBindMountsAndThePodNetnsExternal) {
  DumpPlan plan;
  plan.pid = 42;
  plan.images_dir = "/ck/checkpoint";
  plan.work_dir = "/ck/work";
  plan.netns_inode = 4026532000;
  auto args = CriuDumpArgs(PodContainerSpec(), plan);
  EXPECT_EQ(args[0], "dump");
  EXPECT_TRUE(HasPair(args, "--tree", "42"));
  EXPECT_TRUE(HasPair(args, "--images-dir", "/ck/checkpoint"));
  EXPECT_TRUE(HasPair(args, "--work-dir", "/ck/work"));
  EXPECT_TRUE(HasPair(args, "--external", "mnt[/etc/hosts]:/etc/hosts"));
  EXPECT_TRUE(HasPair(args, "--external", "mnt[/data]:/data"));
  EXPECT_FALSE(HasPair(args, "--external", "mnt[/proc]:/proc"));
  EXPECT_TRUE(HasPair(args, "--external", "net[4026532000]:extRootNetNS"));
  EXPECT_THAT(args, Contains("--manage-cgroups=ignore"));
  EXPECT_THAT(args, Not(Contains("--leave-running")));
  plan.leave_running = true;
  EXPECT_THAT(CriuDumpArgs(PodContainerSpec(), plan), Contains("--leave-running"));
}

// A paused container (cricketd freezes one it checkpoints and leaves running): criu is told its
// freezer, else it would wait for frozen tasks to stop under ptrace; a running one needs none.
TEST(CriuArgsTest, DumpOfAPausedContainerNamesItsFreezer) {
  DumpPlan plan;
  plan.pid = 42;
  plan.images_dir = "/ck/checkpoint";
  plan.work_dir = "/ck/work";
  plan.leave_running = true;
  EXPECT_THAT(CriuDumpArgs(PodContainerSpec(), plan), Not(Contains("--freeze-cgroup")));
  plan.freeze_cgroup = "/sys/fs/cgroup/cricket/c1";
  EXPECT_TRUE(HasPair(CriuDumpArgs(PodContainerSpec(), plan), "--freeze-cgroup",
                      "/sys/fs/cgroup/cricket/c1"));
}

TEST(CriuArgsTest, RestoreBindsMountsToTheirSourcesAndInheritsNetnsAndPipes) {
  RestorePlan plan;
  plan.images_dir = "/ck/checkpoint";
  plan.work_dir = "/ck/work";
  plan.rootfs = "/b/rootfs";
  plan.pidfile = "/ck/work/restore.pid";
  plan.netns_fd = 7;
  plan.descriptors = {"/dev/null", "pipe:[100]", "pipe:[101]"};
  auto args = CriuRestoreArgs(PodContainerSpec(), plan);
  EXPECT_EQ(args[0], "restore");
  EXPECT_THAT(args, Contains("-d"));
  EXPECT_THAT(args, Contains("--restore-sibling"));
  EXPECT_TRUE(HasPair(args, "--root", "/b/rootfs"));
  EXPECT_TRUE(HasPair(args, "--pidfile", "/ck/work/restore.pid"));
  EXPECT_TRUE(HasPair(args, "--external", "mnt[/etc/hosts]:/run/pod/hosts"));
  EXPECT_TRUE(HasPair(args, "--external", "mnt[/data]:/var/vol"));
  EXPECT_TRUE(HasPair(args, "--inherit-fd", "fd[7]:extRootNetNS"));
  EXPECT_TRUE(HasPair(args, "--inherit-fd", "fd[1]:pipe:[100]"));
  EXPECT_TRUE(HasPair(args, "--inherit-fd", "fd[2]:pipe:[101]"));
  EXPECT_FALSE(HasPair(args, "--inherit-fd", "fd[0]:/dev/null"));
}

TEST(CriuTest, AMissingCriuIsFailedPreconditionNamingIt) {
  ::setenv(kCriuEnv, "/nonexistent/criu", 1);
  auto found = FindCriu();
  ::unsetenv(kCriuEnv);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(found.error().message(), ::testing::HasSubstr("criu is not installed"));
}

TEST(CriuTest, AFailingCheckIsFailedPreconditionWithItsFirstErrorLine) {
  // /bin/false stands in for a criu whose check fails the way 3.17 does on a newer kernel.
  auto checked = CheckCriu("/bin/false");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(checked.error().message(), ::testing::HasSubstr("criu check failed"));
}

}  // namespace
}  // namespace cricket::oci
