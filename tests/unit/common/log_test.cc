#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cricket::log {
namespace {

TEST(LogTest, TextLinesCarryFieldsAsPrefix) {
  std::string line = Render(Format::kText, Level::kInfo,
                            {.rpc = "StartContainer", .pod = "p1", .ctr = "c1"}, "started pid=7");
  EXPECT_EQ(line, "info rpc=StartContainer pod=p1 ctr=c1 started pid=7");
}

TEST(LogTest, JsonLinesAreValidJsonWithFields) {
  std::string line =
      Render(Format::kJson, Level::kWarn, {.pod = "p\"1"}, "odd \"quote\"\nand newline");
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["level"], "warn");
  EXPECT_EQ(parsed["pod"], "p\"1");
  EXPECT_EQ(parsed["msg"], "odd \"quote\"\nand newline");
  EXPECT_FALSE(parsed.contains("ctr"));
}

TEST(LogTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose").ok());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("xml").ok());
}

TEST(LogTest, LevelFiltering) {
  Init(Level::kWarn, Format::kText);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Init(Level::kInfo, Format::kText);
  EXPECT_TRUE(Enabled(Level::kInfo));
}

}  // namespace
}  // namespace cricket::log
