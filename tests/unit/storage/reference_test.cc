#include "storage/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace cricket::storage {
namespace {

struct NormCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  std::string string;
};

class ReferenceNormaliseTest : public ::testing::TestWithParam<NormCase> {};

TEST_P(ReferenceNormaliseTest, ParsesAndNormalises) {
  const NormCase& c = GetParam();
  auto ref = ParseReference(c.input);
  ASSERT_TRUE(ref.ok()) << c.input << ": " << ref.error().ToString();
  EXPECT_EQ(ref->domain(), c.domain);
  EXPECT_EQ(ref->path(), c.path);
  EXPECT_EQ(ref->tag(), c.tag);
  EXPECT_EQ(ref->digest(), c.digest);
  EXPECT_EQ(ref->String(), c.string);
}

const std::string kHex = "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const std::string kDigest = "sha256:" + kHex;

INSTANTIATE_TEST_SUITE_P(
    Cases, ReferenceNormaliseTest,
    ::testing::Values(
        NormCase{"busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        NormCase{"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
                 "docker.io/library/busybox:1.36"},
        NormCase{"library/busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        NormCase{"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        NormCase{"index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "",
                 "docker.io/library/busybox:x"},
        NormCase{"user/repo", "docker.io", "user/repo", "latest", "", "docker.io/user/repo:latest"},
        NormCase{"registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", "",
                 "registry.k8s.io/pause:3.9"},
        NormCase{"gcr.io/k8s-staging-cri-tools/test-image-1:latest", "gcr.io",
                 "k8s-staging-cri-tools/test-image-1", "latest", "",
                 "gcr.io/k8s-staging-cri-tools/test-image-1:latest"},
        NormCase{"localhost/foo", "localhost", "foo", "latest", "", "localhost/foo:latest"},
        NormCase{"localhost:5000/a/b/c:v1", "localhost:5000", "a/b/c", "v1", "",
                 "localhost:5000/a/b/c:v1"},
        NormCase{"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", "",
                 "127.0.0.1:5000/busybox:latest"},
        NormCase{"[::1]:5000/busybox:t", "[::1]:5000", "busybox", "t", "", "[::1]:5000/busybox:t"},
        NormCase{"busybox@" + kDigest, "docker.io", "library/busybox", "", kDigest,
                 "docker.io/library/busybox@" + kDigest},
        NormCase{"busybox:1.36@" + kDigest, "docker.io", "library/busybox", "1.36", kDigest,
                 "docker.io/library/busybox:1.36@" + kDigest},
        NormCase{"localhost:5000/x@" + kDigest, "localhost:5000", "x", "", kDigest,
                 "localhost:5000/x@" + kDigest},
        NormCase{"a.b-c.example/x__y/z-----q.r_s", "a.b-c.example", "x__y/z-----q.r_s", "latest",
                 "", "a.b-c.example/x__y/z-----q.r_s:latest"},
        NormCase{"Example.COM/foo:TAG_1.0-x", "Example.COM", "foo", "TAG_1.0-x", "",
                 "Example.COM/foo:TAG_1.0-x"},
        NormCase{"foo:_tag", "docker.io", "library/foo", "_tag", "",
                 "docker.io/library/foo:_tag"}));

class ReferenceInvalidTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceInvalidTest, RejectsWithInvalidArgument) {
  auto ref = ParseReference(GetParam());
  ASSERT_FALSE(ref.ok()) << GetParam() << " parsed as " << ref->String();
  EXPECT_EQ(ref.error().code(), Code::kInvalidArgument);
  EXPECT_NE(ref.error().message().find("invalid image reference"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReferenceInvalidTest,
    ::testing::Values("", ":", "@", "busybox:", "busybox@", "Busybox", "docker.io/Busybox",
                      "foo/Bar", "-foo", "foo-", "foo/", "/foo", "foo//bar", "foo..bar",
                      "foo___bar", "foo/.bar", "foo:-tag", "foo:.tag", "foo:tag!",
                      "foo:" + std::string(129, 'a'), "foo@sha256:abc", "foo@sha256:" + kHex + "z",
                      "foo@" + kHex, "foo@:abc" + kHex, "foo@sha256" + kHex, "localhost:port/foo",
                      "local_host.io/foo", "-a.io/foo", "a.io:99999999/foo", "[::1/foo",
                      "[zz]:5000/foo", kHex, "foo bar", "foo\tbar", "foo/bar baz",
                      "a/" + std::string(260, 'b'), "foo:a:b", "foo@sha256:" + kHex + "@x"));

TEST(ReferenceTest, UppercasePathSaysLowercase) {
  auto ref = ParseReference("docker.io/Library/busybox");
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.error().message().find("must be lowercase"), std::string::npos);
}

TEST(ReferenceTest, TagAndDigestStrings) {
  auto ref = ParseReference("quay.io/a/b:v2@" + kDigest);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->Name(), "quay.io/a/b");
  EXPECT_EQ(ref->TagString(), "quay.io/a/b:v2");
  EXPECT_EQ(ref->DigestString(), "quay.io/a/b@" + kDigest);
  Reference by_digest = ref->WithDigest("sha256:" + std::string(64, '0'));
  EXPECT_EQ(by_digest.String(), "quay.io/a/b@sha256:" + std::string(64, '0'));
  EXPECT_EQ(by_digest.TagString(), "");
}

TEST(ReferenceTest, DigestSyntax) {
  EXPECT_TRUE(ValidateDigestSyntax(kDigest).ok());
  EXPECT_TRUE(ValidateDigestSyntax("sha512+b64u.x-y_z:" + std::string(40, 'a')).ok());
  EXPECT_FALSE(ValidateDigestSyntax("sha256:" + std::string(63, 'a')).ok());
  EXPECT_FALSE(ValidateDigestSyntax("1sha:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateDigestSyntax("sha+:" + std::string(64, 'a')).ok());
}

TEST(ReferenceTest, IsHex64) {
  EXPECT_TRUE(IsHex64(kHex));
  EXPECT_FALSE(IsHex64(kHex.substr(1)));
  EXPECT_FALSE(IsHex64(std::string(64, 'A')));
}

}  // namespace
}  // namespace cricket::storage
