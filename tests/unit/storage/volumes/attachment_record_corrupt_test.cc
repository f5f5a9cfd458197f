// A corrupt attachment record does not stop VolumeManager (issue #14.2): that volume is marked
// stale (needs attention), the others resume.

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/volumes/attachment_record.h"
#include "storage/volumes/volume_manager.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::TempDir;

std::vector<std::string> SetAside(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(prefix + ".corrupt-", 0) == 0) {
      out.push_back(entry.path().string());
    }
  }
  return out;
}

void ExpectStaleFor(const std::string& text, const std::string& volume) {
  TempDir dir;
  const std::string path = dir.Join(volume + ".json");
  ASSERT_TRUE(WriteFileAtomic(path, text, 0600).ok());
  auto record = LoadAttachmentRecord(path, volume);
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  EXPECT_TRUE(record->stale);
  EXPECT_EQ(record->lease.volume, volume);
  EXPECT_NE(record->stale_reason.find("corrupt"), std::string::npos);
  auto kept = SetAside(dir.path(), volume + ".json");
  ASSERT_EQ(kept.size(), 1U);
  EXPECT_EQ(*ReadFile(kept[0]), text);
  // The stale record was written back: a second restart still sees it.
  auto again = LoadAttachmentRecord(path, volume);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->stale);
  EXPECT_EQ(SetAside(dir.path(), volume + ".json").size(), 1U);
}

AttachmentRecord Good(const std::string& volume) {
  AttachmentRecord record;
  record.lease = {volume, "node-a", 7, 42, std::chrono::seconds(10)};
  record.users = {{"ctr1", "pod1"}};
  return record;
}

TEST(AttachmentRecordCorruptTest, TruncatedRecordIsMarkedStale) {
  std::string text = AttachmentToJson(Good("data"));
  ExpectStaleFor(text.substr(0, text.size() / 2), "data");
}

TEST(AttachmentRecordCorruptTest, RandomBytesAreMarkedStale) {
  std::string junk;
  for (int i = 0; i < 300; ++i) {
    junk.push_back(static_cast<char>((i * 2654435761U) >> 9));
  }
  ExpectStaleFor(junk, "data");
}

TEST(AttachmentRecordCorruptTest, WrongSchemaIsMarkedStale) {
  ExpectStaleFor(R"({"volume":"data","lease":{"id":1}})", "data");
  ExpectStaleFor(AttachmentToJson(Good("other")), "data");  // another volume's record
}

TEST(AttachmentRecordCorruptTest, GoodRecordLoads) {
  TempDir dir;
  const std::string path = dir.Join("data.json");
  ASSERT_TRUE(WriteFileAtomic(path, AttachmentToJson(Good("data")), 0600).ok());
  auto record = LoadAttachmentRecord(path, "data");
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->stale);
  EXPECT_EQ(record->lease.token, 7);
  EXPECT_TRUE(SetAside(dir.path(), "data.json").empty());
}

TEST(AttachmentRecordCorruptTest, ManagerResumesTheOthers) {
  TempDir dir;
  VolumeManagerOptions options;
  options.root = dir.Join("node-a/volumes");
  options.node = "node-a";
  options.coordination = CoordinatorOptions::Local(dir.Join("coordination"));
  options.snapshot_dir = dir.Join("store");
  options.snapshot_interval = 1h;
  {
    auto m = VolumeManager::Open(options);
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    ASSERT_TRUE((*m)->Attach("good", "pod1", "ctr1").ok());
    ASSERT_TRUE((*m)->Attach("bad", "pod1", "ctr1").ok());
  }  // cricketd dies: both leases stay taken
  ASSERT_TRUE(WriteFileAtomic(options.root + "/attachments/bad.json", "{\"vol", 0600).ok());

  auto m = VolumeManager::Open(options);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  std::map<std::string, AttachedVolume> by_name;
  for (const AttachedVolume& v : (*m)->Attached()) {
    by_name[v.volume] = v;
  }
  ASSERT_EQ(by_name.size(), 2U);
  EXPECT_FALSE(by_name["good"].stale);
  EXPECT_TRUE(by_name["bad"].stale);
  EXPECT_NE(by_name["bad"].stale_reason.find("corrupt"), std::string::npos);
  // The sound volume works; the damaged one answers with the reason until released.
  EXPECT_TRUE((*m)->Attach("good", "pod2", "ctr2").ok());
  auto refused = (*m)->Attach("bad", "pod2", "ctr2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_NE(refused.error().message().find("corrupt"), std::string::npos);
  EXPECT_TRUE((*m)->Release("bad").ok());
  EXPECT_TRUE((*m)->Detach("good", "ctr1").ok());
  EXPECT_TRUE((*m)->Detach("good", "ctr2").ok());
}

}  // namespace
}  // namespace cricket::storage
