#include "network/iptables.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace cricket::network {
namespace {

// One nat chain as iptables keeps it: each rule as `-S` prints it and as the words that match it
// for `-D`. The fake never parses the printed form, so a caller that splits it wrongly asks to
// delete words no rule has, as with the real binary.
struct FakeRule {
  std::string printed;
  std::vector<std::string> spec;
};

class FakeChain {
 public:
  explicit FakeChain(std::vector<FakeRule> rules) : rules_(std::move(rules)) {}

  Iptables MakeIptables() {
    return Iptables("/sbin/iptables",
                    [this](const std::vector<std::string>& argv) { return Run(argv); });
  }

  void set_exists(bool exists) { exists_ = exists; }
  void set_delete_error(std::string err) { delete_error_ = std::move(err); }
  const std::vector<FakeRule>& rules() const { return rules_; }
  const std::vector<std::vector<std::string>>& deletes() const { return deletes_; }

 private:
  Result<SubprocessResult> Run(const std::vector<std::string>& argv) {
    SubprocessResult r;
    const std::vector<std::string> prefix = {"/sbin/iptables", "-w", "5", "-t", "nat"};
    if (argv.size() < 7 || !std::equal(prefix.begin(), prefix.end(), argv.begin()) ||
        argv[6] != "POSTROUTING") {
      r.exit_code = 2;
      r.err = "fake iptables: unexpected command line";
      return r;
    }
    if (!exists_) {
      r.exit_code = 1;
      r.err = "iptables: No chain/target/match by that name.";
      return r;
    }
    if (argv[5] == "-S") {
      r.exit_code = 0;
      r.out = "-P POSTROUTING ACCEPT\n";
      for (const auto& rule : rules_) {
        r.out += "-A POSTROUTING " + rule.printed + "\n";
      }
      return r;
    }
    if (argv[5] != "-D") {
      r.exit_code = 2;
      return r;
    }
    std::vector<std::string> spec(argv.begin() + 7, argv.end());
    deletes_.push_back(spec);
    auto it = std::find_if(rules_.begin(), rules_.end(),
                           [&](const FakeRule& rule) { return rule.spec == spec; });
    if (!delete_error_.empty() || it == rules_.end()) {
      r.exit_code = 1;
      r.err = delete_error_.empty()
                  ? "iptables: Bad rule (does a matching rule exist in that chain?)."
                  : delete_error_;
      return r;
    }
    rules_.erase(it);
    r.exit_code = 0;
    return r;
  }

  std::vector<FakeRule> rules_;
  bool exists_ = true;
  std::string delete_error_;
  std::vector<std::vector<std::string>> deletes_;
};

FakeRule Masquerade(const std::string& subnet, const std::string& bridge) {
  const std::string comment = "cricket masquerade " + bridge;
  return {
      "-s " + subnet + " ! -d " + subnet + " -m comment --comment \"" + comment +
          "\" -j MASQUERADE",
      {"-s", subnet, "!", "-d", subnet, "-m", "comment", "--comment", comment, "-j", "MASQUERADE"}};
}

TEST(IptablesTest, DeleteRulesWithCommentRemovesTheOwnersRulesWhateverTheirSubnet) {
  FakeChain chain({
      Masquerade("10.88.0.0/16", "cricket0"),
      {"-j CRICKET-POSTROUTING", {"-j", "CRICKET-POSTROUTING"}},
      Masquerade("10.251.0.0/16", "cricket0"),
      // A bridge whose name starts with ours: its rule is not ours.
      Masquerade("10.9.0.0/16", "cricket01"),
      {R"(-s 10.7.0.0/16 -m comment --comment "say \"cricket masquerade cricket0\"" -j ACCEPT)",
       {"-s", "10.7.0.0/16", "-m", "comment", "--comment", R"(say "cricket masquerade cricket0")",
        "-j", "ACCEPT"}},
  });
  Iptables iptables = chain.MakeIptables();

  auto deleted =
      iptables.DeleteRulesWithComment("nat", "POSTROUTING", "cricket masquerade cricket0");

  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  ASSERT_EQ(chain.rules().size(), 3u);
  EXPECT_EQ(chain.rules()[0].spec, std::vector<std::string>({"-j", "CRICKET-POSTROUTING"}));
  EXPECT_EQ(chain.rules()[1].spec, Masquerade("10.9.0.0/16", "cricket01").spec);
  EXPECT_EQ(chain.rules()[2].spec.back(), "ACCEPT");
  EXPECT_EQ(chain.deletes().size(), 2u);
}

TEST(IptablesTest, DeleteRulesWithCommentIsOkWhenNothingMatches) {
  FakeChain chain({Masquerade("10.9.0.0/16", "cricket01")});
  Iptables iptables = chain.MakeIptables();

  auto deleted =
      iptables.DeleteRulesWithComment("nat", "POSTROUTING", "cricket masquerade cricket0");

  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_EQ(chain.rules().size(), 1u);
  EXPECT_TRUE(chain.deletes().empty());
}

TEST(IptablesTest, DeleteRulesWithCommentIsOkWhenTheChainIsMissing) {
  FakeChain chain({});
  chain.set_exists(false);
  Iptables iptables = chain.MakeIptables();

  auto deleted =
      iptables.DeleteRulesWithComment("nat", "POSTROUTING", "cricket masquerade cricket0");

  EXPECT_TRUE(deleted.ok()) << deleted.error().ToString();
}

TEST(IptablesTest, DeleteRulesWithCommentIsOkWhenTheRuleWentMeanwhile) {
  FakeChain chain({Masquerade("10.88.0.0/16", "cricket0")});
  chain.set_delete_error("iptables: Bad rule (does a matching rule exist in that chain?).");
  Iptables iptables = chain.MakeIptables();

  auto deleted =
      iptables.DeleteRulesWithComment("nat", "POSTROUTING", "cricket masquerade cricket0");

  EXPECT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_EQ(chain.deletes().size(), 1u);
}

TEST(IptablesTest, DeleteRulesWithCommentFailsWhenIptablesRefuses) {
  FakeChain chain({Masquerade("10.88.0.0/16", "cricket0")});
  chain.set_delete_error("iptables v1.8.9 (nf_tables): Could not fetch rule set generation id");
  Iptables iptables = chain.MakeIptables();

  auto deleted =
      iptables.DeleteRulesWithComment("nat", "POSTROUTING", "cricket masquerade cricket0");

  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code(), Code::kInternal);
  EXPECT_NE(deleted.error().message().find("-D POSTROUTING -s 10.88.0.0/16"), std::string::npos)
      << deleted.error().message();
  EXPECT_NE(deleted.error().message().find("rule set generation"), std::string::npos);
}

}  // namespace
}  // namespace cricket::network
