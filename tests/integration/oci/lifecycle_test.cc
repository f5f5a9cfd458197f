#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/integration/oci/container_fixture.h"
#include "tests/support/wait_until.h"

namespace cricket::oci::testing {
namespace {

using ::cricket::testing::WaitUntil;

class LifecycleTest : public ContainerTest {};

TEST_F(LifecycleTest, CreateStartRunStopDelete) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("echo hello > /out/log"));
  auto created = runtime_->Create("life", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->status, Status::kCreated);
  auto state = runtime_->State("life");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, Status::kCreated);
  EXPECT_EQ(ReadOut("log"), "");  // not started yet
  ASSERT_TRUE(runtime_->Start("life").ok());
  auto code = runtime_->Wait(created->pid);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(ReadOut("log"), "hello\n");
  state = runtime_->State("life");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, Status::kStopped);
  ASSERT_TRUE(runtime_->Delete("life", false).ok());
  EXPECT_EQ(runtime_->State("life").error().code(), Code::kNotFound);
  EXPECT_FALSE(CgroupExists("memory"));
  EXPECT_FALSE(std::filesystem::exists(root_->Join("life")));
}

TEST_F(LifecycleTest, RunningStateAndSigterm) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("trap 'echo term > /out/log; exit 3' TERM; touch /out/ready; while true; do sleep 0.05; done"));
  auto created = runtime_->Create("term", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("term").ok());
  EXPECT_EQ(runtime_->State("term")->status, Status::kRunning);
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(out_->Join("ready")); }));
  EXPECT_EQ(runtime_->Delete("term", false).error().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(runtime_->Kill("term", SIGTERM, false).ok());
  auto code = runtime_->Wait(created->pid);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(ReadOut("log"), "term\n");
  EXPECT_EQ(runtime_->Kill("term", SIGTERM, false).error().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(runtime_->Delete("term", false).ok());
}

TEST_F(LifecycleTest, PauseResumeAndForceDeleteOfAPausedContainer) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("i=0; while true; do i=$((i+1)); echo $i > /out/count; sleep 0.01; done"));
  ASSERT_TRUE(runtime_->Create("pause", Opts()).ok());
  ASSERT_TRUE(runtime_->Start("pause").ok());
  ASSERT_TRUE(WaitUntil([&] { return !ReadOut("count").empty(); }));
  auto paused = runtime_->Pause("pause");
  ASSERT_TRUE(paused.ok()) << paused.error().ToString();
  EXPECT_EQ(runtime_->State("pause")->status, Status::kPaused);
  std::string frozen_at = ReadOut("count");
  ::usleep(100000);
  EXPECT_EQ(ReadOut("count"), frozen_at);  // nothing ran while frozen
  EXPECT_EQ(runtime_->Delete("pause", false).error().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(runtime_->Resume("pause").ok());
  EXPECT_EQ(runtime_->State("pause")->status, Status::kRunning);
  WaitUntil([&] { return ReadOut("count") != frozen_at; });
  EXPECT_NE(ReadOut("count"), frozen_at);
  ASSERT_TRUE(runtime_->Pause("pause").ok());
  ASSERT_TRUE(runtime_->Delete("pause", true).ok());  // a frozen container still goes away
  EXPECT_FALSE(CgroupExists("freezer"));
}

TEST_F(LifecycleTest, SigkillAndForceDelete) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("sleep 100"));
  auto created = runtime_->Create("force", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("force").ok());
  ASSERT_TRUE(runtime_->Delete("force", true).ok());
  EXPECT_FALSE(CgroupExists("memory"));
  EXPECT_FALSE(std::filesystem::exists(root_->Join("force")));
  EXPECT_EQ(runtime_->State("force").error().code(), Code::kNotFound);
}

TEST_F(LifecycleTest, DeleteOfCreatedKillsTheWaitingInit) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("echo never > /out/log"));
  auto created = runtime_->Create("waiting", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Delete("waiting", false).ok());
  EXPECT_EQ(ReadOut("log"), "");
  EXPECT_FALSE(CgroupExists("pids"));
}

TEST_F(LifecycleTest, StateLeavesTheExitStatusToTheCaller) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("exit 5"));
  auto created = runtime_->Create("status", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("status").ok());
  WaitUntil([&] { return runtime_->State("status")->status == Status::kStopped; });
  EXPECT_EQ(runtime_->State("status")->status, Status::kStopped);
  auto code = runtime_->Wait(created->pid);  // still ours to reap
  ASSERT_TRUE(code.ok()) << code.error().ToString();
  EXPECT_EQ(*code, 5);
}

TEST_F(LifecycleTest, ReconcileRemovesAnInterruptedCreate) {
  CR_REQUIRE_ROOT();
  // What a create killed after recording intent and making the cgroup leaves behind.
  ContainerState half;
  half.id = "half";
  half.status = Status::kCreating;
  half.cgroup_path = CgroupName() + "-half";
  std::string half_dir = CgroupDir("pids") + "-half";
  StateStore store(root_->path());
  ASSERT_TRUE(store.Reserve("half").ok());
  ASSERT_TRUE(store.Save(half).ok());
  ASSERT_TRUE(std::filesystem::create_directory(half_dir));
  ASSERT_TRUE(store.Reserve("empty").ok());  // no state.json at all
  WriteSpec(MakeSpec("sleep 100"));
  ASSERT_TRUE(runtime_->Create("alive", Opts()).ok());

  auto removed = runtime_->Reconcile();
  ASSERT_TRUE(removed.ok()) << removed.error().ToString();
  EXPECT_EQ(*removed, (std::vector<std::string>{"empty", "half"}));
  EXPECT_FALSE(std::filesystem::exists(half_dir));
  EXPECT_EQ(runtime_->State("alive")->status, Status::kCreated);
}

TEST_F(LifecycleTest, StartNowRunsWithoutTheFifo) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("echo now > /out/log; exit 4"));
  CreateOptions options = Opts();
  options.start_now = true;
  auto created = runtime_->Create("now", options);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->status, Status::kRunning);
  EXPECT_FALSE(std::filesystem::exists(root_->Join("now/exec.fifo")));
  EXPECT_EQ(runtime_->Wait(created->pid).value_or(-1), 4);
  EXPECT_EQ(ReadOut("log"), "now\n");
  EXPECT_EQ(runtime_->Start("now").error().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(runtime_->Delete("now", false).ok());
}

TEST_F(LifecycleTest, StartNowRefusesHooks) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().poststop = {Hook{"/bin/true", {}, {}, std::nullopt}};
  WriteSpec(spec);
  CreateOptions options = Opts();
  options.start_now = true;
  auto created = runtime_->Create("nowhooks", options);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(root_->Join("nowhooks")));
}

TEST_F(LifecycleTest, DuplicateIdIsAlreadyExists) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("true"));
  ASSERT_TRUE(runtime_->Create("dup", Opts()).ok());
  auto again = runtime_->Create("dup", Opts());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(runtime_->State("dup")->status, Status::kCreated);
}

TEST_F(LifecycleTest, ListShowsContainers) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("true"));
  ASSERT_TRUE(runtime_->Create("a1", Opts()).ok());
  auto list = runtime_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "a1");
}

}  // namespace
}  // namespace cricket::oci::testing
