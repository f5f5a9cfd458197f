#include "oci/cli_args.h"

#include <csignal>

#include <gtest/gtest.h>

namespace cricket::oci::cli {
namespace {

const std::vector<FlagSpec> kFlags = {
    {"bundle", 'b', true}, {"detach", 'd', false}, {"env", 'e', true, true}};

TEST(CliArgsTest, GlobalFlagsStopAtTheCommand) {
  std::vector<std::string> args = {"rt", "--root", "/r", "--log=/l", "create", "--bundle", "b", "id"};
  size_t next = 0;
  auto global = ParseFlags(args, 1, {{"root", 0, true}, {"log", 0, true}}, true, &next);
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->Get("root"), "/r");
  EXPECT_EQ(global->Get("log"), "/l");
  EXPECT_EQ(args[next], "create");
}

TEST(CliArgsTest, LongShortSingleDashAndEquals) {
  std::vector<std::string> args = {"-b", "x", "--detach", "-bundle=y", "-e", "A=1", "--env", "B=2", "id"};
  auto parsed = ParseFlags(args, 0, kFlags, false, nullptr);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->Get("bundle"), "y");
  EXPECT_TRUE(parsed->Has("detach"));
  EXPECT_EQ(parsed->All("env"), (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(parsed->positional, std::vector<std::string>{"id"});
}

TEST(CliArgsTest, FlagsEndAtTheFirstPositional) {
  std::vector<std::string> args = {"-d", "id", "sh", "-c", "echo -d"};
  auto parsed = ParseFlags(args, 0, kFlags, false, nullptr);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->positional, (std::vector<std::string>{"id", "sh", "-c", "echo -d"}));
}

TEST(CliArgsTest, UnknownFlagAndMissingValue) {
  EXPECT_EQ(ParseFlags({"--nope"}, 0, kFlags, false, nullptr).error().message(), "unknown flag --nope");
  EXPECT_EQ(ParseFlags({"--bundle"}, 0, kFlags, false, nullptr).error().message(),
            "flag --bundle needs a value");
}

TEST(CliArgsTest, Signals) {
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_FALSE(ParseSignal("SIGNOPE").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
}

}  // namespace
}  // namespace cricket::oci::cli
