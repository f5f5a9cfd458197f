#include "storage/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ContentStore::Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
  }
  size_t FilesUnder(const std::string& sub) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.Join("root/" + sub))) {
      ++n;
    }
    return n;
  }

  testing::TempDir dir_{"content"};
  std::unique_ptr<ContentStore> store_;
};

TEST_F(ContentStoreTest, WriteBlobStoresUnderDigestPath) {
  std::string data = "hello blob";
  std::string digest = Sha256Digest(data);
  ASSERT_TRUE(store_->WriteBlob(digest, data).ok());
  EXPECT_TRUE(store_->Has(digest));
  EXPECT_TRUE(fs::is_regular_file(dir_.Join("root/blobs/sha256/" + digest.substr(7))));
  auto read = store_->ReadBlob(digest);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);
  EXPECT_EQ(*store_->Size(digest), static_cast<int64_t>(data.size()));
  EXPECT_EQ(FilesUnder("ingest"), 0U);
  // Writing it again is a no-op.
  EXPECT_TRUE(store_->WriteBlob(digest, data).ok());
}

TEST_F(ContentStoreTest, DigestMismatchNamesBlobAndKeepsNothing) {
  std::string digest = Sha256Digest("expected");
  auto r = store_->WriteBlob(digest, "tampered");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_NE(r.error().message().find(digest), std::string::npos) << r.error().message();
  EXPECT_FALSE(store_->Has(digest));
  EXPECT_EQ(FilesUnder("ingest"), 0U);
  EXPECT_EQ(FilesUnder("blobs/sha256"), 0U);
}

TEST_F(ContentStoreTest, SizeMismatchRejected) {
  std::string data = "abcdef";
  std::string digest = Sha256Digest(data);
  auto ingest = store_->StartIngest(digest, 5);
  ASSERT_TRUE(ingest.ok());
  auto r = ingest->Write(data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_EQ(FilesUnder("ingest"), 0U);

  auto short_ingest = store_->StartIngest(digest, 10);
  ASSERT_TRUE(short_ingest.ok());
  ASSERT_TRUE(short_ingest->Write(data).ok());
  auto c = short_ingest->Commit();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find(digest), std::string::npos);
  EXPECT_FALSE(store_->Has(digest));
}

TEST_F(ContentStoreTest, PartialDownloadResumes) {
  std::string data(200000, 'x');
  data += "tail";
  std::string digest = Sha256Digest(data);
  {
    auto first = store_->StartIngest(digest, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->offset(), 0);
    ASSERT_TRUE(first->Write(std::string_view(data).substr(0, 123456)).ok());
    // Dropped without Commit: an interrupted download.
  }
  EXPECT_EQ(FilesUnder("ingest"), 1U);
  auto second = store_->StartIngest(digest, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->offset(), 123456);
  ASSERT_TRUE(second->Write(std::string_view(data).substr(123456)).ok());
  ASSERT_TRUE(second->Commit().ok());
  EXPECT_EQ(*store_->ReadBlob(digest), data);
  EXPECT_EQ(FilesUnder("ingest"), 0U);
}

TEST_F(ContentStoreTest, SecondWriterIsRefusedWhileFirstHoldsBlob) {
  std::string digest = Sha256Digest("x");
  auto first = store_->StartIngest(digest, 1);
  ASSERT_TRUE(first.ok());
  auto second = store_->StartIngest(digest, 1);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kAborted);
  ASSERT_TRUE(first->Write("x").ok());
  ASSERT_TRUE(first->Commit().ok());
  auto third = store_->StartIngest(digest, 1);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), Code::kAlreadyExists);
}

TEST_F(ContentStoreTest, RestartDropsWrittenBytes) {
  std::string digest = Sha256Digest("good");
  auto ingest = store_->StartIngest(digest, 4);
  ASSERT_TRUE(ingest.ok());
  ASSERT_TRUE(ingest->Write("ba").ok());
  ASSERT_TRUE(ingest->Restart().ok());
  ASSERT_TRUE(ingest->Write("good").ok());
  ASSERT_TRUE(ingest->Commit().ok());
  EXPECT_TRUE(store_->Has(digest));
}

TEST_F(ContentStoreTest, ListAndDelete) {
  std::string a = Sha256Digest("a");
  std::string b = Sha256Digest("b");
  ASSERT_TRUE(store_->WriteBlob(a, "a").ok());
  ASSERT_TRUE(store_->WriteBlob(b, "b").ok());
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2U);
  ASSERT_TRUE(store_->Delete(a).ok());
  EXPECT_FALSE(store_->Has(a));
  EXPECT_TRUE(store_->Delete(a).ok());
  EXPECT_EQ(store_->List()->size(), 1U);
  EXPECT_GT(*store_->UsageBytes(), 0);
}

TEST_F(ContentStoreTest, ConcurrentWriteBlobOfSameDigest) {
  std::string data(100000, 'm');
  std::string digest = Sha256Digest(data);
  std::vector<std::jthread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!store_->WriteBlob(digest, data).ok()) {
          ++failures;
        }
      }
    });
  }
  writers.clear();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(*store_->ReadBlob(digest), data);
  EXPECT_EQ(FilesUnder("ingest"), 0U);
}

TEST_F(ContentStoreTest, PruneIngestRemovesOnlyStaleUnlockedPartials) {
  std::string old_digest = Sha256Digest("old");
  {
    auto ingest = store_->StartIngest(old_digest, 3);
    ASSERT_TRUE(ingest.ok());
    ASSERT_TRUE(ingest->Write("ol").ok());
  }
  timespec old_times[2] = {{1000000, 0}, {1000000, 0}};
  ASSERT_EQ(
      ::utimensat(AT_FDCWD, dir_.Join("root/ingest/" + old_digest.substr(7) + ".partial").c_str(),
                  old_times, 0),
      0);
  std::string busy_digest = Sha256Digest("busy");
  auto busy = store_->StartIngest(busy_digest, 4);
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE(busy->Write("bu").ok());
  ASSERT_EQ(
      ::utimensat(AT_FDCWD, dir_.Join("root/ingest/" + busy_digest.substr(7) + ".partial").c_str(),
                  old_times, 0),
      0);
  auto removed = store_->PruneIngest(3600);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);  // the busy one is locked by its writer
  EXPECT_EQ(FilesUnder("ingest"), 1U);
  EXPECT_EQ(*store_->PruneIngest(3600), 0);
}

TEST_F(ContentStoreTest, RejectsBadDigests) {
  EXPECT_EQ(store_->WriteBlob("sha256:../../etc", "x").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->ReadBlob("md5:" + std::string(32, 'a')).error().code(), Code::kUnimplemented);
  EXPECT_EQ(store_->ReadBlob(Sha256Digest("nope")).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket::storage
