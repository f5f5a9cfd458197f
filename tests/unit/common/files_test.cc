#include "common/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using ::cricket::testing::TempDir;

TEST(FilesTest, WriteFileAtomicReplacesContentAndLeavesNoTemp) {
  TempDir dir;
  std::string path = dir.Join("state.json");
  ASSERT_TRUE(WriteFileAtomic(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two", 0640).ok());
  EXPECT_EQ(*ReadFile(path), "two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FilesTest, ReadMissingFileIsNotFound) {
  TempDir dir;
  auto read = ReadFile(dir.Join("nope"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kNotFound);
}

TEST(FilesTest, MakeDirsCreatesNestedAndRefusesFile) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.Join("a/b/c"), 0711).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir.Join("a/b/c")));
  ASSERT_TRUE(MakeDirs(dir.Join("a/b/c"), 0711).ok());  // idempotent
  ASSERT_TRUE(WriteFileAtomic(dir.Join("f"), "", 0600).ok());
  auto made = MakeDirs(dir.Join("f"), 0711);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace cricket
