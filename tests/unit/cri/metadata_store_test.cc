#include "cri/metadata_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

SandboxRecord MakeSandbox(const std::string& id, const std::string& name) {
  SandboxRecord r;
  r.id = id;
  r.name = name;
  r.state = SandboxState::kReady;
  r.created_at_ns = 1000;
  r.config = std::string("\x0a\x00\xff binary", 10);
  r.runtime = R"({"netns":"/run/cricket/netns/x"})";
  return r;
}

ContainerRecord MakeContainer(const std::string& id, const std::string& sandbox_id,
                          const std::string& name) {
  ContainerRecord r;
  r.id = id;
  r.sandbox_id = sandbox_id;
  r.name = name;
  r.state = ContainerState::kRunning;
  r.created_at_ns = 2000;
  r.started_at_ns = 3000;
  r.exit_code = 0;
  r.config = "cfg";
  r.runtime = "{}";
  return r;
}

TEST(MetadataStoreTest, NewStoreHasCurrentSchema) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_EQ(*(*store)->SchemaVersion(), MetadataStore::kSchemaVersion);
  EXPECT_TRUE((*store)->Check().ok());
}

TEST(MetadataStoreTest, RoundTripsSandboxesAndContainers) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  ASSERT_TRUE(store->PutSandbox(MakeSandbox("s1", "web_default_uid_0")).ok());
  ASSERT_TRUE(store->PutContainer(MakeContainer("c1", "s1", "nginx_web_0")).ok());

  auto sandbox = store->GetSandbox("s1");
  ASSERT_TRUE(sandbox.ok());
  EXPECT_EQ(sandbox->name, "web_default_uid_0");
  EXPECT_EQ(sandbox->config, std::string("\x0a\x00\xff binary", 10));  // binary-safe
  EXPECT_EQ(sandbox->state, SandboxState::kReady);
  auto container = store->GetContainer("c1");
  ASSERT_TRUE(container.ok());
  EXPECT_EQ(container->sandbox_id, "s1");
  EXPECT_EQ(container->started_at_ns, 3000);

  // Update in place.
  ContainerRecord exited = *container;
  exited.state = ContainerState::kExited;
  exited.exit_code = 137;
  exited.reason = "OOMKilled";
  ASSERT_TRUE(store->PutContainer(exited).ok());
  EXPECT_EQ(store->GetContainer("c1")->exit_code, 137);
  EXPECT_EQ(store->ListContainers()->size(), 1u);
}

TEST(MetadataStoreTest, MissingIdsAreNotFoundAndDeletesIdempotent) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  auto missing = store->GetSandbox("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "sandbox nope not found");
  EXPECT_EQ(store->GetContainer("nope").error().code(), Code::kNotFound);
  EXPECT_TRUE(store->DeleteSandbox("nope").ok());
  EXPECT_TRUE(store->DeleteContainer("nope").ok());
}

TEST(MetadataStoreTest, NameConflictIsAlreadyExists) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  ASSERT_TRUE(store->PutSandbox(MakeSandbox("s1", "web_default_uid_0")).ok());
  auto clash = store->PutSandbox(MakeSandbox("s2", "web_default_uid_0"));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(clash.error().message(), "sandbox name web_default_uid_0 is reserved by sandbox s1");
  EXPECT_EQ(store->ListSandboxes()->size(), 1u);
}

TEST(MetadataStoreTest, ContainerNeedsItsSandboxAndKeepsItAlive) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  auto orphan = store->PutContainer(MakeContainer("c1", "ghost", "a_b_0"));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code(), Code::kFailedPrecondition);

  ASSERT_TRUE(store->PutSandbox(MakeSandbox("s1", "p")).ok());
  ASSERT_TRUE(store->PutContainer(MakeContainer("c1", "s1", "a_b_0")).ok());
  auto busy = store->DeleteSandbox("s1");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(busy.error().message(), "sandbox s1 still has containers");
}

TEST(MetadataStoreTest, UpdatingASandboxKeepsItsContainers) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  ASSERT_TRUE(store->PutSandbox(MakeSandbox("s1", "p")).ok());
  ASSERT_TRUE(store->PutContainer(MakeContainer("c1", "s1", "a_b_0")).ok());
  SandboxRecord stopped = *store->GetSandbox("s1");
  stopped.state = SandboxState::kNotReady;
  auto put = store->PutSandbox(stopped);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(store->GetSandbox("s1")->state, SandboxState::kNotReady);
  EXPECT_EQ(store->ListContainers()->size(), 1u);
}

TEST(MetadataStoreTest, FailedUpdateRollsBackEveryWrite) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  auto result = store->Update([](MetadataStore::Tx& tx) -> Result<void> {
    CR_RETURN_IF_ERROR(tx.PutSandbox(MakeSandbox("s1", "p")));
    CR_RETURN_IF_ERROR(tx.PutContainer(MakeContainer("c1", "s1", "a_b_0")));
    return Error(Code::kInternal, "shim failed to start");
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "shim failed to start");
  EXPECT_TRUE(store->ListSandboxes()->empty());
  EXPECT_TRUE(store->ListContainers()->empty());
}

TEST(MetadataStoreTest, SurvivesReopen) {
  TempDir dir;
  {
    auto store = MetadataStore::Open(dir.path()).value();
    ASSERT_TRUE(store->PutSandbox(MakeSandbox("s1", "p")).ok());
  }
  auto store = MetadataStore::Open(dir.path()).value();
  EXPECT_EQ(store->ListSandboxes()->size(), 1u);
}

// A crash in the middle of a transaction (the process dies between writes, before COMMIT) must
// leave the store readable with only the committed state. The child dies with _exit, which
// skips every destructor, as a SIGKILL or power cut would.
TEST(MetadataStoreTest, CrashMidTransactionKeepsCommittedStateOnly) {
  TempDir dir;
  {
    auto store = MetadataStore::Open(dir.path()).value();
    ASSERT_TRUE(store->PutSandbox(MakeSandbox("committed", "p0")).ok());
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = MetadataStore::Open(dir.path());
    if (!store.ok()) {
      ::_exit(3);
    }
    (void)(*store)->Update([](MetadataStore::Tx& tx) -> Result<void> {
      (void)tx.PutSandbox(MakeSandbox("half", "p1"));
      (void)tx.PutContainer(MakeContainer("c-half", "half", "x_p1_0"));
      ::_exit(0);  // dies holding the write transaction
    });
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto reopened = MetadataStore::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  auto sandboxes = (*reopened)->ListSandboxes();
  ASSERT_TRUE(sandboxes.ok());
  ASSERT_EQ(sandboxes->size(), 1u);
  EXPECT_EQ((*sandboxes)[0].id, "committed");
  EXPECT_TRUE((*reopened)->ListContainers()->empty());
  // And it still takes writes: the dead writer's lock is gone.
  EXPECT_TRUE((*reopened)->PutSandbox(MakeSandbox("after", "p2")).ok());
}

// A crash right after COMMIT returned must keep the change (synchronous=FULL).
TEST(MetadataStoreTest, CrashAfterCommitKeepsChange) {
  TempDir dir;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = MetadataStore::Open(dir.path());
    if (!store.ok() || !(*store)->PutSandbox(MakeSandbox("s1", "p")).ok()) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto store = MetadataStore::Open(dir.path()).value();
  EXPECT_TRUE(store->GetSandbox("s1").ok());
}

TEST(MetadataStoreTest, RefusesStoreFromNewerVersion) {
  TempDir dir;
  {
    auto db = Database::Open(dir.Join("metadata.db")).value();
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = MetadataStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.error().message().find("schema version 99"), std::string::npos);
}

}  // namespace
}  // namespace cricket::cri
