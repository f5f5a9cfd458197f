#include "storage/auth_challenge.h"

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

TEST(AuthChallengeTest, ParsesBearer) {
  auto c = ParseAuthChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c->Param("service"), "registry.docker.io");
  EXPECT_EQ(c->Param("scope"), "repository:library/busybox:pull");
}

TEST(AuthChallengeTest, ParsesBasicAndUnquotedAndEscapes) {
  auto c = ParseAuthChallenge(R"(Basic realm="Registry \"Realm\"", charset=UTF-8)");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->Param("realm"), "Registry \"Realm\"");
  EXPECT_EQ(c->Param("charset"), "UTF-8");
}

TEST(AuthChallengeTest, RejectsGarbage) {
  EXPECT_FALSE(ParseAuthChallenge("").ok());
  EXPECT_FALSE(ParseAuthChallenge(R"(Bearer realm="unterminated)").ok());
}

TEST(Base64Test, RoundTrips) {
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(*Base64Decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_FALSE(Base64Decode("!!").ok());
  EXPECT_FALSE(Base64Decode("YQ==YQ").ok());
}

TEST(UrlEncodeTest, EncodesReserved) {
  EXPECT_EQ(UrlEncode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
}

}  // namespace
}  // namespace cricket::storage
