#include "network/localnet_guard.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cricket::network {
namespace {

using Words = std::vector<std::string>;

// The filter table as a map of chains, driven through the real Iptables command lines: every
// command is recorded so a test can check the exact arguments, and -C/-A/-I/-D/-S/-N/-F/-X
// act on the chains as iptables would.
class FakeFilterTable {
 public:
  FakeFilterTable() { chains_["INPUT"] = {{"-p", "tcp", "--dport", "22", "-j", "ACCEPT"}}; }

  Iptables MakeIptables() {
    return Iptables("/sbin/iptables", [this](const Words& argv) { return Run(argv); });
  }

  const std::map<std::string, std::vector<Words>>& chains() const { return chains_; }
  const std::vector<Words>& commands() const { return commands_; }

 private:
  static std::string Print(const std::string& chain, const Words& rule) {
    std::string line = "-A " + chain;
    for (const auto& w : rule) {
      line += w.find(' ') == std::string::npos ? " " + w : " \"" + w + "\"";
    }
    return line;
  }

  Result<SubprocessResult> Run(const Words& argv) {
    const Words prefix = {"/sbin/iptables", "-w", "5", "-t", "filter"};
    EXPECT_TRUE(argv.size() > 5 && std::equal(prefix.begin(), prefix.end(), argv.begin()));
    Words args(argv.begin() + 5, argv.end());
    commands_.push_back(args);
    SubprocessResult r;
    r.exit_code = 1;
    const std::string& op = args.at(0);
    if (op == "-S" && args.size() == 1) {
      r.exit_code = 0;
      for (const auto& [name, rules] : chains_) {
        r.out += "-N " + name + "\n";
      }
      return r;
    }
    auto chain = chains_.find(args.at(1));
    if (op == "-N") {
      r.exit_code = chain == chains_.end() ? 0 : 1;
      r.err = chain == chains_.end() ? "" : "iptables: Chain already exists.";
      chains_.try_emplace(args.at(1));
      return r;
    }
    if (chain == chains_.end()) {
      r.err = "iptables: No chain/target/match by that name.";
      return r;
    }
    auto& rules = chain->second;
    if (op == "-S") {
      r.exit_code = 0;
      r.out = "-N " + args[1] + "\n";
      for (const auto& rule : rules) {
        r.out += Print(args[1], rule) + "\n";
      }
      return r;
    }
    if (op == "-F") {
      rules.clear();
      r.exit_code = 0;
      return r;
    }
    if (op == "-X") {
      chains_.erase(chain);
      r.exit_code = 0;
      return r;
    }
    const bool insert = op == "-I";
    Words rule(args.begin() + (insert ? 3 : 2), args.end());
    auto it = std::find(rules.begin(), rules.end(), rule);
    if (op == "-C") {
      r.exit_code = it == rules.end() ? 1 : 0;
    } else if (op == "-A") {
      rules.push_back(rule);
      r.exit_code = 0;
    } else if (insert) {
      rules.insert(rules.begin(), rule);
      r.exit_code = 0;
    } else if (op == "-D" && it != rules.end()) {
      rules.erase(it);
      r.exit_code = 0;
    } else {
      r.err = "iptables: Bad rule (does a matching rule exist in that chain?).";
    }
    return r;
  }

  std::map<std::string, std::vector<Words>> chains_;
  std::vector<Words> commands_;
};

const Words kGuardCricket0 = {"-d",
                              "127.0.0.0/8",
                              "-i",
                              "cricket0",
                              "-m",
                              "comment",
                              "--comment",
                              "cricket localnet guard cricket0",
                              "-m",
                              "conntrack",
                              "!",
                              "--ctstate",
                              "RELATED,ESTABLISHED,DNAT",
                              "-j",
                              "DROP"};

TEST(LocalnetGuardTest, RuleDropsNewPacketsFromTheBridgeToLoopback) {
  EXPECT_EQ(LocalnetGuardRule("cricket0"), kGuardCricket0);
}

// For a bridge Cricket does not know (CNI): every interface but lo.
TEST(LocalnetGuardTest, RuleForAllButLoopback) {
  EXPECT_EQ(LocalnetGuardRule(kAllButLoopback),
            (Words{"-d", "127.0.0.0/8", "!", "-i", "lo", "-m", "comment", "--comment",
                   "cricket localnet guard all but lo", "-m", "conntrack", "!", "--ctstate",
                   "RELATED,ESTABLISHED,DNAT", "-j", "DROP"}));
}

TEST(LocalnetGuardTest, EnsureInstallsTheRuleAndJumpsFromTheTopOfInput) {
  FakeFilterTable table;
  Iptables iptables = table.MakeIptables();

  auto ensured = EnsureLocalnetGuard(iptables, "cricket0");

  ASSERT_TRUE(ensured.ok()) << ensured.error().ToString();
  Words append = {"-A", "CRICKET-FIREWALL"};
  append.insert(append.end(), kGuardCricket0.begin(), kGuardCricket0.end());
  const std::vector<Words> mutations = [&] {
    std::vector<Words> out;
    for (const auto& c : table.commands()) {
      if (c[0] != "-C") {
        out.push_back(c);
      }
    }
    return out;
  }();
  EXPECT_EQ(mutations, (std::vector<Words>{{"-N", "CRICKET-FIREWALL"},
                                           append,
                                           {"-I", "INPUT", "1", "-j", "CRICKET-FIREWALL"}}));
  EXPECT_EQ(table.chains().at("CRICKET-FIREWALL"), std::vector<Words>{kGuardCricket0});
  // First in INPUT, before the node's own ACCEPT rules.
  EXPECT_EQ(table.chains().at("INPUT").front(), (Words{"-j", "CRICKET-FIREWALL"}));
}

TEST(LocalnetGuardTest, EnsureIsIdempotent) {
  FakeFilterTable table;
  Iptables iptables = table.MakeIptables();

  ASSERT_TRUE(EnsureLocalnetGuard(iptables, "cricket0").ok());
  ASSERT_TRUE(EnsureLocalnetGuard(iptables, "cricket0").ok());

  EXPECT_EQ(table.chains().at("CRICKET-FIREWALL").size(), 1u);
  EXPECT_EQ(table.chains().at("INPUT").size(), 2u);
}

TEST(LocalnetGuardTest, RemoveTakesTheChainAndJumpWithTheLastBridge) {
  FakeFilterTable table;
  Iptables iptables = table.MakeIptables();
  ASSERT_TRUE(EnsureLocalnetGuard(iptables, "cricket0").ok());
  ASSERT_TRUE(EnsureLocalnetGuard(iptables, "cricket1").ok());

  ASSERT_TRUE(RemoveLocalnetGuard(iptables, "cricket0").ok());
  EXPECT_EQ(table.chains().at("CRICKET-FIREWALL"),
            std::vector<Words>{LocalnetGuardRule("cricket1")});
  EXPECT_EQ(table.chains().at("INPUT").front(), (Words{"-j", "CRICKET-FIREWALL"}));

  ASSERT_TRUE(RemoveLocalnetGuard(iptables, "cricket1").ok());
  EXPECT_FALSE(table.chains().contains("CRICKET-FIREWALL"));
  EXPECT_EQ(table.chains().at("INPUT"),
            (std::vector<Words>{{"-p", "tcp", "--dport", "22", "-j", "ACCEPT"}}));
}

TEST(LocalnetGuardTest, RemoveIsIdempotent) {
  FakeFilterTable table;
  Iptables iptables = table.MakeIptables();

  EXPECT_TRUE(RemoveLocalnetGuard(iptables, "cricket0").ok());
  ASSERT_TRUE(EnsureLocalnetGuard(iptables, "cricket0").ok());
  EXPECT_TRUE(RemoveLocalnetGuard(iptables, "cricket0").ok());
  EXPECT_TRUE(RemoveLocalnetGuard(iptables, "cricket0").ok());
  EXPECT_FALSE(table.chains().contains("CRICKET-FIREWALL"));
}

}  // namespace
}  // namespace cricket::network
