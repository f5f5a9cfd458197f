#include "common/text.h"

#include <gtest/gtest.h>

namespace cricket {
namespace {

TEST(TextTest, SplitKeepsEmptyPieces) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(Split("/a/b/", '/'), (std::vector<std::string>{"", "a", "b", ""}));
}

TEST(TextTest, WordsSkipAnyWhitespace) {
  EXPECT_EQ(Words("  cpu\tmemory\n pids \n"),
            (std::vector<std::string_view>{"cpu", "memory", "pids"}));
  EXPECT_TRUE(Words(" \n\t").empty());
  EXPECT_EQ(Words("one"), (std::vector<std::string_view>{"one"}));
}

TEST(TextTest, ParseUint64TakesOnlyWholeDecimals) {
  EXPECT_EQ(ParseUint64("0"), 0u);
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseUint64("18446744073709551616"), std::nullopt);  // overflow
  EXPECT_EQ(ParseUint64("max"), std::nullopt);
  EXPECT_EQ(ParseUint64("12k"), std::nullopt);
  EXPECT_EQ(ParseUint64("-1"), std::nullopt);
  EXPECT_EQ(ParseUint64(""), std::nullopt);
}

TEST(TextTest, TrimEndDropsOnlyTrailingSpacesAndLineFeeds) {
  EXPECT_EQ(TrimEnd("eth0 \n"), "eth0");
  EXPECT_EQ(TrimEnd(" a b\n\n"), " a b");
  EXPECT_EQ(TrimEnd("tab\t"), "tab\t");
  EXPECT_EQ(TrimEnd(" \n "), "");
  EXPECT_EQ(TrimEnd(""), "");
}

TEST(TextTest, CleanPathResolvesDotsAndSlashesLexically) {
  EXPECT_EQ(CleanPath("/proc"), "/proc");
  EXPECT_EQ(CleanPath("/./proc/"), "/proc");
  EXPECT_EQ(CleanPath("//proc//sys"), "/proc/sys");
  EXPECT_EQ(CleanPath("/a/../proc"), "/proc");
  EXPECT_EQ(CleanPath("/../../proc/./x/.."), "/proc");
  EXPECT_EQ(CleanPath("/"), "/");
  EXPECT_EQ(CleanPath("a/../../b"), "../b");
  EXPECT_EQ(CleanPath(""), ".");
}

}  // namespace
}  // namespace cricket
