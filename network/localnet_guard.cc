#include "network/localnet_guard.h"

namespace cricket::network {
namespace {

std::string GuardComment(const std::string& bridge) {
  return "cricket localnet guard " + (bridge.empty() ? std::string("all but lo") : bridge);
}

const std::vector<std::string>& JumpRule() {
  static const std::vector<std::string> kJump = {"-j", kFirewallChain};
  return kJump;
}

}  // namespace

std::vector<std::string> LocalnetGuardRule(const std::string& bridge) {
  // RELATED,ESTABLISHED: replies to the node's own connections through the bridge, e.g. a
  // hostPort on 127.0.0.1 whose reply is un-masqueraded back to 127.0.0.1. DNAT: packets a
  // nat rule already sent elsewhere. Everything else for 127/8 from the bridge is a pod
  // reaching for the node's loopback. Written in the order `iptables -S` prints it back.
  std::vector<std::string> rule = {"-d", "127.0.0.0/8"};
  if (bridge.empty()) {
    rule.insert(rule.end(), {"!", "-i", "lo"});
  } else {
    rule.insert(rule.end(), {"-i", bridge});
  }
  rule.insert(rule.end(), {"-m", "comment", "--comment", GuardComment(bridge)});
  rule.insert(rule.end(), {"-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT"});
  rule.insert(rule.end(), {"-j", "DROP"});
  return rule;
}

Result<void> EnsureLocalnetGuard(Iptables& iptables, const std::string& bridge) {
  CR_RETURN_IF_ERROR(iptables.EnsureChain("filter", kFirewallChain));
  CR_RETURN_IF_ERROR(iptables.EnsureRule("filter", kFirewallChain, LocalnetGuardRule(bridge)));
  // The jump last: an empty chain never matters, a jump to a missing chain fails to insert.
  return iptables.EnsureRuleFirst("filter", "INPUT", JumpRule());
}

Result<void> RemoveLocalnetGuard(Iptables& iptables, const std::string& bridge) {
  CR_RETURN_IF_ERROR(
      iptables.DeleteRulesWithComment("filter", kFirewallChain, GuardComment(bridge)));
  auto left = iptables.ListRules("filter", kFirewallChain);
  if (left.ok() && !left->empty()) {
    return Ok();  // another bridge of Cricket's is still guarded by it
  }
  CR_RETURN_IF_ERROR(iptables.DeleteRule("filter", "INPUT", JumpRule()));
  return iptables.RemoveChain("filter", kFirewallChain);
}

}  // namespace cricket::network
