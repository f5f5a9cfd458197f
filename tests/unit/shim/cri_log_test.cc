#include "shim/cri_log.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::shim {
namespace {

using ::cricket::testing::TempDir;

// A fixed clock: 2026-11-27T23:30:44.000000007Z.
std::chrono::system_clock::time_point FixedTime() {
  return std::chrono::system_clock::time_point(std::chrono::nanoseconds(1795822244000000007LL));
}

class CriLogTest : public ::testing::Test {
 protected:
  CriLogWriter Open(size_t max_line) {
    return CriLogWriter::Open(dir_.Join("0.log"), max_line, FixedTime).value();
  }
  std::string Log() { return ReadFile(dir_.Join("0.log")).value_or("<missing>"); }

  TempDir dir_;
};

constexpr const char* kTs = "2026-11-27T23:30:44.000000007Z";

TEST(CriTimestampTest, HasNanoseconds) {
  EXPECT_EQ(FormatCriTimestamp(FixedTime()), kTs);
}

TEST_F(CriLogTest, CompleteLinesAreFullEntriesPerStream) {
  auto log = Open(1024);
  ASSERT_TRUE(log.Write(LogStream::kStdout, "hello\nwor").ok());
  ASSERT_TRUE(log.Write(LogStream::kStderr, "oops\n").ok());
  ASSERT_TRUE(log.Write(LogStream::kStdout, "ld\n\n").ok());
  EXPECT_EQ(Log(), std::string(kTs) + " stdout F hello\n" + kTs + " stderr F oops\n" + kTs +
                       " stdout F world\n" + kTs + " stdout F \n");
}

TEST_F(CriLogTest, LongLineIsSplitIntoPartials) {
  auto log = Open(4);
  ASSERT_TRUE(log.Write(LogStream::kStdout, "abcdefghij\n").ok());
  EXPECT_EQ(Log(), std::string(kTs) + " stdout P abcd\n" + kTs + " stdout P efgh\n" + kTs +
                       " stdout F ij\n");
}

TEST_F(CriLogTest, LineOfExactlyMaxIsOneFullEntry) {
  auto log = Open(4);
  ASSERT_TRUE(log.Write(LogStream::kStdout, "abcd\n").ok());
  EXPECT_EQ(Log(), std::string(kTs) + " stdout F abcd\n");
}

TEST_F(CriLogTest, PartialsAcrossWritesAndFlushAtEnd) {
  auto log = Open(4);
  ASSERT_TRUE(log.Write(LogStream::kStdout, "ab").ok());
  ASSERT_TRUE(log.Write(LogStream::kStdout, "cdef").ok());
  ASSERT_TRUE(log.Flush(LogStream::kStdout).ok());
  ASSERT_TRUE(log.Flush(LogStream::kStdout).ok());  // nothing left: no entry
  EXPECT_EQ(Log(), std::string(kTs) + " stdout P abcd\n" + kTs + " stdout F ef\n");
}

TEST_F(CriLogTest, ReopenRecreatesRotatedFile) {
  auto log = Open(1024);
  ASSERT_TRUE(log.Write(LogStream::kStdout, "before\n").ok());
  ASSERT_EQ(::rename(dir_.Join("0.log").c_str(), dir_.Join("0.log.1").c_str()), 0);
  ASSERT_TRUE(log.Reopen().ok());
  ASSERT_TRUE(log.Write(LogStream::kStdout, "after\n").ok());
  EXPECT_EQ(Log(), std::string(kTs) + " stdout F after\n");
  EXPECT_EQ(*ReadFile(dir_.Join("0.log.1")), std::string(kTs) + " stdout F before\n");
}

TEST_F(CriLogTest, MissingDirectoryIsNotFound) {
  auto log = CriLogWriter::Open(dir_.Join("no/such/dir/0.log"));
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket::shim
