// A damaged metadata.db does not stop cricketd: MetadataStore::Open sets it aside and opens an
// empty store (issue #14.2). One test per kind of damage.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cri/metadata_store.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

// A store holding 30 sandboxes (several pages), closed so the WAL is checkpointed.
void FillStore(const std::string& dir) {
  auto store = MetadataStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  for (int i = 0; i < 30; ++i) {
    SandboxRecord r;
    r.id = "s" + std::to_string(i);
    r.name = "pod" + std::to_string(i);
    r.config = std::string(2000, 'c');
    r.runtime = "{}";
    ASSERT_TRUE((*store)->PutSandbox(r).ok());
  }
}

// Opens the damaged store and checks it was set aside and the fresh one works.
void ExpectSetAsideAndUsable(const std::string& dir, const std::string& problem_part) {
  auto store = MetadataStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  const std::string& aside = (*store)->set_aside_path();
  ASSERT_NE(aside, "");
  EXPECT_EQ(aside.rfind(dir + "/metadata.db.corrupt-", 0), 0U) << aside;
  EXPECT_TRUE(std::filesystem::exists(aside));
  EXPECT_NE((*store)->set_aside_problem().find(problem_part), std::string::npos)
      << (*store)->set_aside_problem();
  EXPECT_EQ(*(*store)->SchemaVersion(), MetadataStore::kSchemaVersion);
  EXPECT_TRUE((*store)->ListSandboxes()->empty());
  SandboxRecord r;
  r.id = "new";
  r.name = "new";
  EXPECT_TRUE((*store)->PutSandbox(r).ok());
  // A second open finds the fresh file sound.
  store->reset();
  auto again = MetadataStore::Open(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->set_aside_path(), "");
  EXPECT_TRUE((*again)->GetSandbox("new").ok());
}

TEST(MetadataStoreCorruptTest, RandomBytesAreSetAside) {
  TempDir dir;
  std::string junk;
  for (int i = 0; i < 16384; ++i) {
    junk.push_back(static_cast<char>((i * 2654435761U) >> 13));
  }
  ASSERT_TRUE(WriteFileAtomic(dir.Join("metadata.db"), junk, 0600).ok());
  ExpectSetAsideAndUsable(dir.path(), "");
}

TEST(MetadataStoreCorruptTest, TruncatedFileIsSetAside) {
  TempDir dir;
  FillStore(dir.path());
  const std::string path = dir.Join("metadata.db");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
  ExpectSetAsideAndUsable(dir.path(), "");
}

TEST(MetadataStoreCorruptTest, EmptyFileIsSetAside) {
  TempDir dir;
  FillStore(dir.path());
  ASSERT_EQ(::truncate(dir.Join("metadata.db").c_str(), 0), 0);
  ExpectSetAsideAndUsable(dir.path(), "empty");
}

TEST(MetadataStoreCorruptTest, OverwrittenPagesAreSetAside) {
  TempDir dir;
  FillStore(dir.path());
  const std::string path = dir.Join("metadata.db");
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  ASSERT_GT(text->size(), 3 * 4096U);
  // Garbage over page 2 onwards: the header still says SQLite, the b-trees are broken.
  std::string damaged = *text;
  for (size_t i = 4096; i < damaged.size(); i += 3) {
    damaged[i] = static_cast<char>(i * 31);
  }
  ASSERT_TRUE(WriteFileAtomic(path, damaged, 0600).ok());
  ExpectSetAsideAndUsable(dir.path(), "");
}

TEST(MetadataStoreCorruptTest, WrongSchemaIsSetAside) {
  TempDir dir;
  {
    auto db = Database::Open(dir.Join("metadata.db"));
    ASSERT_TRUE(db.ok());
    // Claims our version, holds other tables.
    ASSERT_TRUE((*db)->Exec("CREATE TABLE sandboxes (x TEXT); PRAGMA user_version = 1").ok());
  }
  ExpectSetAsideAndUsable(dir.path(), "unknown schema");
}

TEST(MetadataStoreCorruptTest, ForeignTablesAtVersionZeroAreSetAside) {
  TempDir dir;
  {
    auto db = Database::Open(dir.Join("metadata.db"));
    ASSERT_TRUE(db.ok());
    // Version 0 with a clashing table: migration 1 cannot create ours.
    ASSERT_TRUE((*db)->Exec("CREATE TABLE containers (y INTEGER)").ok());
  }
  ExpectSetAsideAndUsable(dir.path(), "unknown schema");
}

TEST(MetadataStoreCorruptTest, SoundStoreIsNotSetAside) {
  TempDir dir;
  FillStore(dir.path());
  auto store = MetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->set_aside_path(), "");
  EXPECT_EQ((*store)->ListSandboxes()->size(), 30U);
}

}  // namespace
}  // namespace cricket::cri
