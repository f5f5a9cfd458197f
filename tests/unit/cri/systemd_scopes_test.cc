#include "cri/systemd_scopes.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "common/files.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "tests/unit/cri/fake_shims.h"

namespace cricket::cri {
namespace {

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Records the calls; StartTransientUnit also notes whether the PIDs it got are alive.
class FakeBus final : public oci::SystemdBus {
 public:
  Result<void> start = Ok();
  Result<void> set = Ok();
  std::vector<std::string> calls;  // "start cricket-c1.scope", "stop ...", "set ..."
  std::vector<oci::UnitProperty> start_properties;
  std::vector<oci::UnitProperty> set_properties;
  pid_t placeholder = -1;
  bool placeholder_alive_at_set = false;

  Result<void> StartTransientUnit(const std::string& unit,
                                  const std::vector<oci::UnitProperty>& properties,
                                  std::chrono::milliseconds /*timeout*/) override {
    calls.push_back("start " + unit);
    start_properties = properties;
    for (const auto& p : properties) {
      if (p.name == "PIDs") {
        placeholder = static_cast<pid_t>(std::get<std::vector<uint32_t>>(p.value).at(0));
      }
    }
    return start;
  }
  Result<void> SetUnitProperties(const std::string& unit,
                                 const std::vector<oci::UnitProperty>& properties) override {
    calls.push_back("set " + unit);
    set_properties = properties;
    placeholder_alive_at_set = placeholder > 0 && Alive(placeholder);
    return set;
  }
  Result<void> StopUnit(const std::string& unit, std::chrono::milliseconds /*timeout*/) override {
    calls.push_back("stop " + unit);
    return Ok();
  }
  Result<std::string> ActiveState(const std::string& /*unit*/) override {
    return std::string("active");
  }
};

// An inner ShimAccess that checks, at Launch, that the scope's placeholder is still alive (the
// container's init must be born into a started scope).
class CheckingShims final : public ShimAccess {
 public:
  CheckingShims(testing::FakeShims& fake, FakeBus& bus) : fake_(fake), bus_(bus) {}
  bool placeholder_alive_at_launch = false;
  Result<void> Launch(const shim::ShimOptions& options,
                      std::chrono::milliseconds timeout) override {
    placeholder_alive_at_launch = bus_.placeholder > 0 && Alive(bus_.placeholder);
    return fake_.Launch(options, timeout);
  }
  std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) override {
    return fake_.Connect(shim_dir);
  }

 private:
  testing::FakeShims& fake_;
  FakeBus& bus_;
};

class SystemdShimsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/crtest-" + std::to_string(::getpid()) + "-sdshims";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/bundle");
    fake_.make_state_dir = true;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  shim::ShimOptions WriteBundle(const std::string& cgroups_path, const std::string& pids_max = "") {
    oci::Spec spec = oci::DefaultSpec();
    spec.linux->cgroups_path = cgroups_path;
    spec.linux->resources = oci::Resources{};
    spec.linux->resources->memory = oci::MemoryResources{};
    spec.linux->resources->memory->limit = 32 << 20;
    if (!pids_max.empty()) {
      spec.linux->resources->unified["pids.max"] = pids_max;
    }
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/bundle/config.json", oci::SpecToJson(spec), 0644).ok());
    shim::ShimOptions options;
    options.id = "c1";
    options.bundle = dir_ + "/bundle";
    options.state_dir = dir_ + "/shim";
    return options;
  }

  std::string dir_;
  FakeBus bus_;
  testing::FakeShims fake_;
  CheckingShims inner_{fake_, bus_};
  SystemdScopes scopes_{bus_, oci::CgroupMode::kV2};
  std::unique_ptr<ShimAccess> shims_ = NewSystemdShims(inner_, scopes_);
  const std::string scope_path_ = "/kubepods.slice/kubepods-pod1.slice/cricket-c1.scope";
};

TEST_F(SystemdShimsTest, LaunchStartsTheScopeAroundAPlaceholderThenDropsIt) {
  ASSERT_TRUE(shims_->Launch(WriteBundle(scope_path_), std::chrono::seconds(5)).ok());
  ASSERT_EQ(bus_.calls, std::vector<std::string>({"start cricket-c1.scope"}));
  EXPECT_TRUE(inner_.placeholder_alive_at_launch);
  EXPECT_FALSE(Alive(bus_.placeholder));  // killed and reaped once the shim had created
  bool delegate = false;
  uint64_t memory_max = 0;
  std::string slice;
  for (const auto& p : bus_.start_properties) {
    if (p.name == "Delegate") {
      delegate = std::get<bool>(p.value);
    } else if (p.name == "MemoryMax") {
      memory_max = std::get<uint64_t>(p.value);
    } else if (p.name == "Slice") {
      slice = std::get<std::string>(p.value);
    }
  }
  EXPECT_TRUE(delegate);
  EXPECT_EQ(memory_max, 32u << 20);
  EXPECT_EQ(slice, "kubepods-pod1.slice");
  EXPECT_EQ(*RememberedScope(dir_ + "/shim"), scope_path_);
}

// The placeholder is a task of the scope: TasksMax=1 at start would leave no room for the
// container's init. The limit is set once the placeholder is gone.
TEST_F(SystemdShimsTest, PidsLimitIsSetOnceThePlaceholderIsGone) {
  ASSERT_TRUE(shims_->Launch(WriteBundle(scope_path_, "1"), std::chrono::seconds(5)).ok());
  ASSERT_EQ(bus_.calls,
            std::vector<std::string>({"start cricket-c1.scope", "set cricket-c1.scope"}));
  for (const auto& p : bus_.start_properties) {
    EXPECT_NE(p.name, "TasksMax");
  }
  EXPECT_FALSE(bus_.placeholder_alive_at_set);
  ASSERT_EQ(bus_.set_properties.size(), 1u);
  EXPECT_EQ(bus_.set_properties[0].name, "TasksMax");
  EXPECT_EQ(std::get<uint64_t>(bus_.set_properties[0].value), 1u);
}

TEST_F(SystemdShimsTest, FailedStartLaunchesNothing) {
  bus_.start = Error(Code::kInternal, "org.freedesktop.systemd1.UnitExists");
  auto launched = shims_->Launch(WriteBundle(scope_path_), std::chrono::seconds(5));
  ASSERT_FALSE(launched.ok());
  EXPECT_NE(launched.error().message().find("cricket-c1.scope"), std::string::npos);
  EXPECT_TRUE(fake_.launched.empty());
  EXPECT_EQ(bus_.calls.back(), "stop cricket-c1.scope");
  EXPECT_FALSE(Alive(bus_.placeholder));
}

TEST_F(SystemdShimsTest, FailedLaunchStopsTheScope) {
  fake_.launch = Error(Code::kInternal, "shim failed");
  ASSERT_FALSE(shims_->Launch(WriteBundle(scope_path_), std::chrono::seconds(5)).ok());
  EXPECT_EQ(bus_.calls,
            std::vector<std::string>({"start cricket-c1.scope", "stop cricket-c1.scope"}));
  EXPECT_FALSE(Alive(bus_.placeholder));
}

TEST_F(SystemdShimsTest, DeleteStopsTheUnitAlsoWhenTheShimIsGone) {
  ASSERT_TRUE(shims_->Launch(WriteBundle(scope_path_), std::chrono::seconds(5)).ok());
  ASSERT_TRUE(shims_->Connect(dir_ + "/shim")->Delete(true).ok());
  EXPECT_EQ(bus_.calls.back(), "stop cricket-c1.scope");
  bus_.calls.clear();
  testing::FakeShims::SetGone(fake_.At(dir_ + "/shim"));
  auto deleted = shims_->Connect(dir_ + "/shim")->Delete(true);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code(), Code::kUnavailable);  // the caller deletes without it
  EXPECT_EQ(bus_.calls, std::vector<std::string>({"stop cricket-c1.scope"}));
}

TEST_F(SystemdShimsTest, CgroupfsPathsPassThrough) {
  ASSERT_TRUE(shims_->Launch(WriteBundle("/cricket/c1"), std::chrono::seconds(5)).ok());
  EXPECT_TRUE(bus_.calls.empty());
  EXPECT_EQ(fake_.launched.size(), 1u);
}

TEST(SystemdScopesTest, UpdateSetsUnitPropertiesOfScopesOnly) {
  FakeBus bus;
  SystemdScopes scopes(bus, oci::CgroupMode::kV2);
  oci::Resources r;
  r.pids = oci::PidsResources{64};
  ASSERT_TRUE(scopes.Update("/a.slice/cricket-c1.scope", r).ok());
  ASSERT_EQ(bus.calls, std::vector<std::string>({"set cricket-c1.scope"}));
  ASSERT_EQ(bus.set_properties.size(), 1u);
  EXPECT_EQ(bus.set_properties[0], (oci::UnitProperty{"TasksMax", uint64_t{64}}));
  ASSERT_TRUE(scopes.Update("/cricket/c1", r).ok());
  EXPECT_EQ(bus.calls.size(), 1u);
}

// UpdatePodSandboxResources: the pod's slice gets the limits as unit properties.
TEST(SystemdScopesTest, UpdateSliceSetsTheSlicesUnitProperties) {
  FakeBus bus;
  SystemdScopes scopes(bus, oci::CgroupMode::kV2);
  oci::Resources r;
  r.memory.emplace().limit = 64 << 20;
  r.cpu.emplace().quota = -1;
  ASSERT_TRUE(scopes.UpdateSlice("kubepods-pod1.slice", r).ok());
  ASSERT_EQ(bus.calls, std::vector<std::string>({"set kubepods-pod1.slice"}));
  EXPECT_NE(std::find(bus.set_properties.begin(), bus.set_properties.end(),
                      oci::UnitProperty{"MemoryMax", uint64_t{64 << 20}}),
            bus.set_properties.end());
  bus.set = Error(Code::kNotFound, "no such unit");
  auto failed = scopes.UpdateSlice("kubepods-pod1.slice", r);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("kubepods-pod1.slice"), std::string::npos);
}

TEST(PodCgroupParentTest, SystemdWantsASliceAndDefaultsToCricketSlice) {
  EXPECT_EQ(*PodCgroupParent("", CgroupDriver::kSystemd), "cricket.slice");
  EXPECT_EQ(*PodCgroupParent("kubepods-pod1.slice", CgroupDriver::kSystemd), "kubepods-pod1.slice");
  // A slice's path (critest sends "/test.slice"): its last component names it.
  EXPECT_EQ(*PodCgroupParent("/test.slice", CgroupDriver::kSystemd), "test.slice");
  EXPECT_EQ(*PodCgroupParent("/kubepods.slice/kubepods-pod1.slice/", CgroupDriver::kSystemd),
            "kubepods-pod1.slice");
  EXPECT_FALSE(PodCgroupParent("/a.slice/b", CgroupDriver::kSystemd).ok());
  EXPECT_FALSE(PodCgroupParent("/", CgroupDriver::kSystemd).ok());
  auto bad = PodCgroupParent("/kubepods/pod1", CgroupDriver::kSystemd);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("linux.cgroup_parent"), std::string::npos);
  EXPECT_EQ(*PodCgroupParent("/kubepods/pod1", CgroupDriver::kCgroupfs), "/kubepods/pod1");
}

TEST(CheckSystemdDriverUsableTest, RefusedWithoutSystemdAsPid1) {
  auto refused = CheckSystemdDriverUsable("/nonexistent/crtest/run/systemd/system");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("cgroupfs"), std::string::npos);
  EXPECT_TRUE(CheckSystemdDriverUsable(::testing::TempDir()).ok());
}

}  // namespace
}  // namespace cricket::cri
