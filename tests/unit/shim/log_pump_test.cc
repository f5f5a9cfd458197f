#include "shim/log_pump.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::shim {
namespace {

using ::cricket::testing::TempDir;

std::chrono::system_clock::time_point Epoch() { return {}; }
constexpr const char* kEpochTs = "1970-01-01T00:00:00.000000000Z";

TEST(LogPumpTest, WritesInOrderAndFlushesOnDestruction) {
  TempDir dir;
  {
    LogPump pump(CriLogWriter::Open(dir.Join("c.log"), 1024, Epoch).value());
    pump.Push(LogStream::kStdout, "one\ntw");
    pump.Push(LogStream::kStdout, "o\nthree");
  }
  EXPECT_EQ(*ReadFile(dir.Join("c.log")), std::string(kEpochTs) + " stdout F one\n" + kEpochTs +
                                              " stdout F two\n" + kEpochTs + " stdout F three\n");
}

TEST(LogPumpTest, FullQueueDropsAndSaysSo) {
  TempDir dir;
  {
    LogPump pump(CriLogWriter::Open(dir.Join("c.log"), 1024, Epoch).value(),
                 /*max_queued_bytes=*/8);
    pump.Drain();
    pump.Push(LogStream::kStdout, "0123456789\n");  // larger than the whole queue
    EXPECT_EQ(pump.dropped_bytes(), 11u);
    pump.Push(LogStream::kStdout, "ok\n");
    pump.Drain();
  }
  std::string log = *ReadFile(dir.Join("c.log"));
  EXPECT_NE(log.find("stderr F [cricket-shim] log queue full: dropped 11 bytes of output"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("stdout F ok"), std::string::npos);
}

TEST(LogPumpTest, ReopenAfterRotation) {
  TempDir dir;
  LogPump pump(CriLogWriter::Open(dir.Join("c.log"), 1024, Epoch).value());
  pump.Push(LogStream::kStdout, "a\n");
  pump.Drain();
  ASSERT_EQ(::rename(dir.Join("c.log").c_str(), dir.Join("c.log.1").c_str()), 0);
  ASSERT_TRUE(pump.Reopen().ok());
  pump.Push(LogStream::kStdout, "b\n");
  pump.Drain();
  EXPECT_EQ(*ReadFile(dir.Join("c.log")), std::string(kEpochTs) + " stdout F b\n");
}

}  // namespace
}  // namespace cricket::shim
