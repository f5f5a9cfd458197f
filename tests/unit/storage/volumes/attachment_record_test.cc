#include "storage/volumes/attachment_record.h"

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

TEST(AttachmentRecordTest, RoundTrips) {
  AttachmentRecord record;
  record.lease = {"data", "node-a", 7, 42, std::chrono::seconds(10)};
  record.head = "sha256:abc";
  record.users = {{"ctr1", "pod1"}, {"ctr2", "pod1"}};
  record.stale = true;
  record.stale_reason = "lease lost";
  auto parsed = AttachmentFromJson(AttachmentToJson(record), "x");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->lease.token, 7);
  EXPECT_EQ(parsed->lease.lease_id, 42);
  EXPECT_EQ(parsed->lease.ttl, std::chrono::seconds(10));
  EXPECT_EQ(parsed->users, record.users);
  EXPECT_TRUE(parsed->stale);
  EXPECT_EQ(parsed->stale_reason, "lease lost");
}

TEST(AttachmentRecordTest, CorruptIsDataLoss) {
  auto parsed = AttachmentFromJson("{\"volume\": 3}", "/x/a.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), Code::kDataLoss);
  EXPECT_NE(parsed.error().message().find("/x/a.json"), std::string::npos);
  EXPECT_EQ(CopyFromJson("[]", "c").error().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace cricket::storage
