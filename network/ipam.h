#pragma once

// Ipam: IPv4 address leases for pods, persisted as one file per address under a directory
// (`<dir>/<ip>` holding the owner's sandbox id), like the CNI host-local plugin.
//
// Leases are ClaimDir claims, so two allocators — threads or processes, before or after a
// crash — never hand out one address twice; allocators are serialised by the ClaimDir lock so
// the round-robin cursor stays consistent. The network, gateway and broadcast addresses are never
// handed out. Thread-safe.

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "network/claims.h"
#include "network/ipv4.h"

namespace cricket::network {

class Ipam {
 public:
  // Creates `dir` if needed.
  static Result<Ipam> Open(std::string dir, Ipv4Cidr range);

  // The owner's lease, or a new one. kResourceExhausted when the range is full.
  Result<Ipv4> Allocate(const std::string& owner) { return Allocate(owner, range_); }
  // The same from `range` instead of the one given to Open (the bridge's pod range changed:
  // leases of the old range stay taken until their owners release them).
  Result<Ipv4> Allocate(const std::string& owner, const Ipv4Cidr& range);
  // Drops every lease of `owner`. Unknown owner is OK.
  Result<void> Release(const std::string& owner);
  // Drops every lease in the directory, in the range or not (a bridge being destroyed).
  Result<void> ReleaseAll();
  // Every lease in range(): address -> owner.
  Result<std::map<Ipv4, std::string>> Leases() const;
  // Every lease in the directory, in range() or not.
  Result<std::map<Ipv4, std::string>> AllLeases() const;

  const Ipv4Cidr& range() const { return range_; }

 private:
  Ipam(ClaimDir claims, Ipv4Cidr range) : claims_(std::move(claims)), range_(range) {}

  ClaimDir claims_;
  Ipv4Cidr range_;
};

}  // namespace cricket::network
