#include "storage/digest.h"

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, IncrementalMatchesOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Final(), Sha256Digest("abc"));
  h.Reset();
  EXPECT_EQ(h.Final(), Sha256Digest(""));
}

TEST(DigestTest, Sha256Hex) {
  std::string hex(64, 'a');
  auto ok = Sha256Hex("sha256:" + hex);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, hex);
  EXPECT_EQ(Sha256Hex("sha512:" + std::string(128, 'a')).error().code(), Code::kUnimplemented);
  EXPECT_EQ(Sha256Hex("sha256:" + std::string(64, 'A')).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Sha256Hex("nope").error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::storage
