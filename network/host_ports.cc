#include "network/host_ports.h"

#include "common/cleanup.h"
#include "common/files.h"
#include "network/localnet_guard.h"
#include "network/names.h"

namespace cricket::network {
namespace {

std::string RouteLocalnetPath(const std::string& bridge) {
  return "/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet";
}

std::string ClaimName(const PortMapping& m) {
  return std::string(ProtocolName(m.protocol)) + "-" + std::to_string(m.host_port);
}

}  // namespace

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

Result<void> ClaimHostPorts(const ClaimDir& claims, const std::string& sandbox_id,
                            const std::vector<PortMapping>& mappings) {
  for (const auto& m : mappings) {
    if (m.host_port < 1 || m.host_port > 65535 || m.container_port < 1 ||
        m.container_port > 65535) {
      return Error(Code::kInvalidArgument, "port mapping " + std::to_string(m.host_port) + "->" +
                                               std::to_string(m.container_port) +
                                               ": ports must be 1..65535");
    }
    if (!m.host_ip.empty()) {
      CR_RETURN_IF_ERROR(Ipv4::Parse(m.host_ip));
    }
  }
  CR_ASSIGN_OR_RETURN(LockFile lock, claims.Lock());
  CR_ASSIGN_OR_RETURN(auto held, claims.List());
  for (const auto& m : mappings) {
    auto it = held.find(ClaimName(m));
    if (it != held.end() && it->second != sandbox_id) {
      return Error(Code::kAlreadyExists, "host port " + std::string(ProtocolName(m.protocol)) +
                                             "/" + std::to_string(m.host_port) +
                                             " is taken by sandbox " + it->second);
    }
  }
  for (const auto& m : mappings) {
    // False only for the sandbox's own earlier claim, checked above under the lock.
    CR_RETURN_IF_ERROR(claims.TryClaim(ClaimName(m), sandbox_id));
  }
  return Ok();
}

std::string HostPorts::SandboxChain(const std::string& sandbox_id) {
  return kSandboxChainPrefix + ShortHash(sandbox_id, 16);
}

std::vector<std::string> HostPorts::JumpRule(const std::string& sandbox_id) const {
  return {"-m",        "comment",
          "--comment", "cricket sandbox " + sandbox_id,
          "-j",        SandboxChain(sandbox_id)};
}

Result<void> HostPorts::EnsureBase() {
  CR_RETURN_IF_ERROR(iptables_.EnsureChain("nat", kHostPortsChain));
  CR_RETURN_IF_ERROR(iptables_.EnsureChain("nat", kPostroutingChain));
  for (const char* hook : {"PREROUTING", "OUTPUT"}) {
    CR_RETURN_IF_ERROR(iptables_.EnsureRule(
        "nat", hook, {"-m", "addrtype", "--dst-type", "LOCAL", "-j", kHostPortsChain}));
  }
  CR_RETURN_IF_ERROR(iptables_.EnsureRule("nat", "POSTROUTING", {"-j", kPostroutingChain}));
  // DNAT of 127.0.0.1:<hostPort> to a pod only works if the bridge accepts loopback-sourced
  // packets and the source is rewritten so the reply finds its way back. route_localnet also
  // lets pods address the node's own 127.0.0.1, so the guard goes in before it is switched on.
  CR_RETURN_IF_ERROR(EnsureLocalnetGuard(iptables_, bridge_));
  CR_RETURN_IF_ERROR(WriteKernelFile(RouteLocalnetPath(bridge_), "1"));
  return iptables_.EnsureRule("nat", kPostroutingChain,
                              {"-s", "127.0.0.0/8", "-o", bridge_, "-j", "MASQUERADE"});
}

Result<void> HostPorts::Add(const std::string& sandbox_id, Ipv4 pod_ip,
                            const std::vector<PortMapping>& mappings) {
  if (mappings.empty()) {
    return Ok();
  }
  CR_RETURN_IF_ERROR(ClaimHostPorts(claims_, sandbox_id, mappings));
  Cleanup undo([&] { (void)Remove(sandbox_id); });

  const std::string chain = SandboxChain(sandbox_id);
  CR_RETURN_IF_ERROR(iptables_.EnsureChain("nat", chain));
  for (const auto& m : mappings) {
    std::vector<std::string> rule = {"-p", std::string(ProtocolName(m.protocol))};
    if (!m.host_ip.empty() && m.host_ip != "0.0.0.0") {
      rule.insert(rule.end(), {"-d", m.host_ip + "/32"});
    }
    rule.insert(rule.end(),
                {"--dport", std::to_string(m.host_port), "-j", "DNAT", "--to-destination",
                 pod_ip.ToString() + ":" + std::to_string(m.container_port)});
    CR_RETURN_IF_ERROR(iptables_.EnsureRule("nat", chain, rule));
  }
  CR_RETURN_IF_ERROR(iptables_.EnsureRule("nat", kHostPortsChain, JumpRule(sandbox_id)));
  undo.Dismiss();
  return Ok();
}

Result<void> HostPorts::Remove(const std::string& sandbox_id) {
  // Claims are made before the chain and released after it, so a sandbox without claims has
  // no chain either (Reconcile removes, by its claims, any a crash could strand): skip the
  // iptables runs.
  CR_ASSIGN_OR_RETURN(auto claims, claims_.List());
  bool holds_any = false;
  for (const auto& [name, owner] : claims) {
    holds_any = holds_any || owner == sandbox_id;
  }
  if (!holds_any) {
    return Ok();
  }
  CR_RETURN_IF_ERROR(iptables_.DeleteRule("nat", kHostPortsChain, JumpRule(sandbox_id)));
  CR_RETURN_IF_ERROR(iptables_.RemoveChain("nat", SandboxChain(sandbox_id)));
  CR_ASSIGN_OR_RETURN(LockFile lock, claims_.Lock());
  return claims_.ReleaseOwner(sandbox_id);
}

Result<void> HostPorts::RemoveBase() {
  // route_localnet off before the guard goes: never a moment with the one and not the other.
  // A bridge already gone took its setting with it.
  if (auto off = WriteKernelFile(RouteLocalnetPath(bridge_), "0");
      !off.ok() && off.error().code() != Code::kNotFound) {
    return off;
  }
  CR_RETURN_IF_ERROR(RemoveLocalnetGuard(iptables_, bridge_));
  CR_RETURN_IF_ERROR(iptables_.DeleteRule(
      "nat", kPostroutingChain, {"-s", "127.0.0.0/8", "-o", bridge_, "-j", "MASQUERADE"}));
  auto hostports = iptables_.ListRules("nat", kHostPortsChain);
  auto postrouting = iptables_.ListRules("nat", kPostroutingChain);
  const bool unused =
      (!hostports.ok() || hostports->empty()) && (!postrouting.ok() || postrouting->empty());
  if (!unused) {
    return Ok();  // another bridge of Cricket's still needs them
  }
  for (const char* hook : {"PREROUTING", "OUTPUT"}) {
    CR_RETURN_IF_ERROR(iptables_.DeleteRule(
        "nat", hook, {"-m", "addrtype", "--dst-type", "LOCAL", "-j", kHostPortsChain}));
  }
  CR_RETURN_IF_ERROR(iptables_.DeleteRule("nat", "POSTROUTING", {"-j", kPostroutingChain}));
  CR_RETURN_IF_ERROR(iptables_.RemoveChain("nat", kHostPortsChain));
  return iptables_.RemoveChain("nat", kPostroutingChain);
}

Result<void> HostPorts::Reconcile(const std::set<std::string>& live) {
  // A bridge that already has route_localnet on (made by a Cricket without the guard, or the
  // guard flushed by someone) gets it back at start-up, not only at its next pod.
  if (auto localnet = ReadFile(RouteLocalnetPath(bridge_));
      localnet.ok() && localnet->starts_with("1")) {
    CR_RETURN_IF_ERROR(EnsureLocalnetGuard(iptables_, bridge_));
  }
  // Only what this bridge's claims name is ours: other Cricket instances on the node (tests,
  // hack/cluster) share CRICKET-HOSTPORTS and the CRICKET-HP- prefix, and their sandboxes are
  // not in `live`. Claims are made before a chain and released after it (Add, Remove), so a
  // crash at any step leaves the claim that leads back to the chain and its jump.
  std::set<std::string> dead;
  {
    CR_ASSIGN_OR_RETURN(LockFile lock, claims_.Lock());
    CR_ASSIGN_OR_RETURN(auto claims, claims_.List());
    for (const auto& [name, owner] : claims) {
      if (!live.contains(owner)) {
        dead.insert(owner);
      }
    }
  }
  for (const auto& id : dead) {
    CR_RETURN_IF_ERROR(Remove(id));
  }
  return Ok();
}

}  // namespace cricket::network
