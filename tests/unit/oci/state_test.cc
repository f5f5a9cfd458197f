#include "oci/state.h"

#include <gtest/gtest.h>

#include "oci/proc_stat.h"
#include "tests/support/temp_dir.h"

namespace cricket::oci {
namespace {

TEST(StateTest, JsonRoundTripAndOciFields) {
  ContainerState s;
  s.oci_version = "1.2.0";
  s.id = "abc";
  s.status = Status::kRunning;
  s.pid = 42;
  s.pid_start_time = 777;
  s.bundle = "/b";
  s.annotations["k"] = "v";
  std::string text = StateToJson(s);
  EXPECT_NE(text.find("\"status\": \"running\""), std::string::npos);
  auto back = StateFromJson(text);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->pid_start_time, 777u);
  EXPECT_EQ(back->annotations.at("k"), "v");
}

TEST(StateTest, StoppedStateReportsPidZero) {
  ContainerState s;
  s.id = "x";
  s.status = Status::kStopped;
  s.pid = 42;
  EXPECT_NE(StateToJson(s).find("\"pid\": 0"), std::string::npos);
}

TEST(StateTest, BadStatusNamesTheField) {
  auto s = StateFromJson(R"({"id": "x", "status": "dancing"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "status: unknown status \"dancing\"");
}

TEST(StateStoreTest, ReserveSaveLoadListRemove) {
  cricket::testing::TempDir dir("state");
  StateStore store(dir.Join("root"));
  ASSERT_TRUE(store.Reserve("c1").ok());
  EXPECT_EQ(store.Reserve("c1").error().code(), Code::kAlreadyExists);
  ContainerState s;
  s.id = "c1";
  s.status = Status::kCreated;
  ASSERT_TRUE(store.Save(s).ok());
  EXPECT_EQ(store.Load("c1")->status, Status::kCreated);
  EXPECT_EQ(*store.List(), std::vector<std::string>{"c1"});
  ASSERT_TRUE(store.Remove("c1").ok());
  EXPECT_EQ(store.Load("c1").error().code(), Code::kNotFound);
}

TEST(StateStoreTest, IdsMustBeSafeDirectoryNames) {
  EXPECT_TRUE(ValidateContainerId("abc-1.2_x").ok());
  EXPECT_FALSE(ValidateContainerId("").ok());
  EXPECT_FALSE(ValidateContainerId("..").ok());
  EXPECT_FALSE(ValidateContainerId("a/b").ok());
}

TEST(ProcStatTest, ParsesStateAndStartTimeWithParensInComm) {
  auto stat = ParseProcStat(
      "123 (a (b) c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10");
  ASSERT_TRUE(stat.ok()) << stat.error().ToString();
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_time, 98765u);
  EXPECT_FALSE(ParseProcStat("garbage").ok());
}

}  // namespace
}  // namespace cricket::oci
