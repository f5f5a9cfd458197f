#include "common/sqlite.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using ::cricket::testing::TempDir;

Result<void> NoSchemaCheck(Database& /*db*/) { return Ok(); }

// Entries of `dir` whose name starts with `prefix`.
std::vector<std::string> Named(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) {
      out.push_back(name);
    }
  }
  return out;
}

// A database with a table and `rows` rows of 1 KiB, closed (checkpointed into the main file).
void MakeDatabase(const std::string& path, int rows) {
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v BLOB)").ok());
  for (int i = 0; i < rows; ++i) {
    auto st = (*db)->Prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(st.ok());
    st->BindBlob(1, std::string(1024, static_cast<char>('a' + i % 26)));
    ASSERT_TRUE(st->Run().ok());
  }
}

TEST(SqliteErrorTest, FullDatabaseIsResourceExhausted) {
  TempDir dir;
  auto db = Database::Open(dir.Join("full.db"));
  ASSERT_TRUE(db.ok());
  // A page budget stands in for a full disk: SQLite answers SQLITE_FULL either way.
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v BLOB); PRAGMA max_page_count = 8").ok());
  Result<void> put = Ok();
  for (int i = 0; i < 100 && put.ok(); ++i) {
    auto st = (*db)->Prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(st.ok());
    st->BindBlob(1, std::string(4096, 'x'));
    put = st->Run();
  }
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), Code::kResourceExhausted) << put.error().ToString();
}

TEST(SqliteErrorTest, CodesByKind) {
  EXPECT_EQ(SqliteError(nullptr, SQLITE_FULL, "x").code(), Code::kResourceExhausted);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_CORRUPT, "x").code(), Code::kDataLoss);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_NOTADB, "x").code(), Code::kDataLoss);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_BUSY, "x").code(), Code::kUnavailable);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_IOERR_WRITE, "x").code(), Code::kInternal);
}

TEST(OpenOrSetAsideTest, SoundFileIsKept) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  MakeDatabase(path, 3);
  auto opened = OpenOrSetAside(path, NoSchemaCheck);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->set_aside_path, "");
  auto st = opened->db->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->ColumnInt(0), 3);
  EXPECT_TRUE(Named(dir.path(), "a.db.corrupt-").empty());
}

// Each kind of damage: the file moves aside with its WAL files, a fresh one opens in its place.
void ExpectSetAside(const std::string& dir, const std::string& path,
                    const std::string& problem_part) {
  auto opened = OpenOrSetAside(path, NoSchemaCheck);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_NE(opened->set_aside_path, "");
  EXPECT_NE(opened->problem.find(problem_part), std::string::npos) << opened->problem;
  EXPECT_TRUE(std::filesystem::exists(opened->set_aside_path));
  EXPECT_EQ(Named(dir, "a.db.corrupt-").size() >= 1, true);
  // The fresh file works.
  EXPECT_TRUE(
      opened->db->Exec("CREATE TABLE fresh (x INTEGER); INSERT INTO fresh VALUES (1)").ok());
}

TEST(OpenOrSetAsideTest, RandomBytesAreSetAside) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  std::string junk;
  for (int i = 0; i < 8192; ++i) {
    junk.push_back(static_cast<char>((i * 7919 + 13) % 251));
  }
  ASSERT_TRUE(WriteFileAtomic(path, junk, 0600).ok());
  ExpectSetAside(dir.path(), path, "");
  // The bad bytes are kept for a post-mortem.
  auto kept = Named(dir.path(), "a.db.corrupt-");
  ASSERT_EQ(kept.size(), 1U);
  EXPECT_EQ(*ReadFile(dir.Join(kept[0])), junk);
}

TEST(OpenOrSetAsideTest, EmptyFileIsSetAside) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  ASSERT_TRUE(WriteFileAtomic(path, "", 0600).ok());
  ExpectSetAside(dir.path(), path, "empty");
}

TEST(OpenOrSetAsideTest, TruncatedFileIsSetAside) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  MakeDatabase(path, 40);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 8 * 4096);
  ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
  ExpectSetAside(dir.path(), path, "");
}

TEST(OpenOrSetAsideTest, SchemaCheckDataLossSetsAside) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  MakeDatabase(path, 1);
  auto opened = OpenOrSetAside(path, [](Database& db) -> Result<void> {
    if (db.Prepare("SELECT v FROM t").ok()) {
      return Error(Code::kDataLoss, "unknown schema: table t");
    }
    return Ok();
  });
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_NE(opened->problem.find("unknown schema"), std::string::npos);
  EXPECT_EQ(Named(dir.path(), "a.db.corrupt-").size(), 1U);
}

TEST(OpenOrSetAsideTest, OtherErrorsLeaveTheFile) {
  TempDir dir;
  const std::string path = dir.Join("a.db");
  MakeDatabase(path, 1);
  auto opened = OpenOrSetAside(path, [](Database&) -> Result<void> {
    return Error(Code::kFailedPrecondition, "newer schema");
  });
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Named(dir.path(), "a.db.corrupt-").empty());
}

}  // namespace
}  // namespace cricket
