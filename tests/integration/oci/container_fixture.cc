#include "tests/integration/oci/container_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "oci/cgroup_detect.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "tests/support/wait_until.h"

namespace cricket::oci::testing {
namespace {

constexpr const char* kApplets[] = {"sh",   "cat",   "echo", "hostname", "ls",    "true",
                                    "false", "sleep", "id",  "mkdir",    "touch", "ip",
                                    "ping", "grep",  "head", "dd",       "wc",    "ps",
                                    "mount", "stat", "nproc", "readlink", "seq", "tail", "unshare"};

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? info->name() : "t";
  return name;
}

}  // namespace

void ContainerTest::SetUp() {
  if (::geteuid() != 0) {
    return;  // the test body skips through CR_REQUIRE_ROOT()
  }
  bundle_ = std::make_unique<cricket::testing::TempDir>("bundle");
  out_ = std::make_unique<cricket::testing::TempDir>("out");
  root_ = std::make_unique<cricket::testing::TempDir>("root");
  ::chmod(out_->path().c_str(), 0777);
  rootfs_ = bundle_->Join("rootfs");
  for (const char* dir : {"bin", "proc", "dev", "sys", "tmp", "out", "etc"}) {
    std::filesystem::create_directories(rootfs_ + "/" + dir);
  }
  std::filesystem::copy_file("/bin/busybox", rootfs_ + "/bin/busybox");
  for (const char* applet : kApplets) {
    std::filesystem::create_symlink("busybox", rootfs_ + "/bin/" + applet);
  }
  std::ofstream(rootfs_ + "/etc/passwd") << "root:x:0:0:root:/:/bin/sh\n";
  auto cgroups = DetectCgroups();
  ASSERT_TRUE(cgroups.ok()) << cgroups.error().ToString();
  cgroups_ = *cgroups;
  runtime_ = std::make_unique<Runtime>(sys_, root_->path(), cgroups_);
}

void ContainerTest::TearDown() {
  if (runtime_ == nullptr) {
    return;
  }
  auto states = runtime_->List();
  if (states.ok()) {
    for (const auto& s : *states) {
      auto deleted = runtime_->Delete(s.id, true);
      EXPECT_TRUE(deleted.ok()) << deleted.error().ToString();
    }
  }
  // Every container mount lived in the container's mount namespace: none may show here.
  auto mounts = ReadFile("/proc/self/mountinfo");
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(mounts->find(rootfs_), std::string::npos) << "a mount below " << rootfs_ << " is left";
  EXPECT_FALSE(CgroupExists("pids")) << CgroupDir("pids") << " is left";
}

std::string ContainerTest::CgroupName() const {
  return "/crtest-" + std::to_string(::getpid()) + "-" + TestName();
}

std::string ContainerTest::CgroupDir(const std::string& controller) const {
  return v2() ? cgroups_.unified_mount + CgroupName()
              : "/sys/fs/cgroup/" + controller + CgroupName();
}

bool ContainerTest::CgroupExists(const std::string& controller) const {
  return std::filesystem::exists(CgroupDir(controller));
}

std::string ContainerTest::Control(const std::string& controller, const std::string& v1_file,
                                   const std::string& v2_file) const {
  auto text = ReadFile(CgroupDir(controller) + "/" + (v2() ? v2_file : v1_file));
  return text.ok() ? text->substr(0, text->find('\n')) : "<" + text.error().message() + ">";
}

Spec ContainerTest::MakeSpec(const std::string& script) {
  Spec spec = DefaultSpec();
  spec.root->path = rootfs_;
  spec.process->args = {"sh", "-c", script};
  spec.process->env = {"PATH=/bin", "HOME=/"};
  spec.linux->cgroups_path = CgroupName();
  Mount out;
  out.destination = "/out";
  out.type = "bind";
  out.source = out_->path();
  out.options = {"rbind", "rw"};
  spec.mounts.push_back(out);
  return spec;
}

void ContainerTest::WriteSpec(const Spec& spec) {
  auto written = WriteFileAtomic(bundle_->Join("config.json"), SpecToJson(spec), 0644);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
}

ContainerTest::RunResult ContainerTest::Run(const Spec& spec, const std::string& id) {
  RunResult result;
  WriteSpec(spec);
  auto created = runtime_->Create(id, Opts());
  EXPECT_TRUE(created.ok()) << created.error().ToString();
  if (!created.ok()) {
    return result;
  }
  auto started = runtime_->Start(id);
  EXPECT_TRUE(started.ok()) << started.error().ToString();
  auto code = runtime_->Wait(created->pid);
  EXPECT_TRUE(code.ok()) << code.error().ToString();
  result.exit_code = code.value_or(-1);
  result.out = ReadOut("log");
  auto deleted = runtime_->Delete(id, false);
  EXPECT_TRUE(deleted.ok()) << deleted.error().ToString();
  return result;
}

void ContainerTest::WaitUntilExecd(pid_t pid) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  ::cricket::testing::WaitUntil([&] { return std::filesystem::read_symlink(exe, ec) != self; });
}

std::string ContainerTest::ReadOut(const std::string& name) const {
  return ReadFile(out_->Join(name)).value_or("");
}

}  // namespace cricket::oci::testing
