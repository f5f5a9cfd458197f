#pragma once

// Ipam: IPv4 address leases for pods, persisted as one file per address under a directory
// (`<dir>/<ip>` holding the owner's sandbox id), like the CNI host-local plugin.
//
// A lease is created with link(2), which fails atomically when the address is taken, so two
// allocators — threads or processes, before or after a crash — never hand out one address
// twice. An flock on `<dir>/lock` serialises allocators so the round-robin cursor stays
// consistent. The network, gateway and broadcast addresses are never handed out. Thread-safe.

#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "network/ipv4.h"

namespace cricket::network {

class Ipam {
 public:
  // Creates `dir` if needed.
  static Result<Ipam> Open(std::string dir, Ipv4Cidr range);

  // The owner's lease, or a new one. kResourceExhausted when the range is full.
  Result<Ipv4> Allocate(const std::string& owner);
  // Drops every lease of `owner`. Unknown owner is OK.
  Result<void> Release(const std::string& owner);
  // Every lease: address -> owner.
  Result<std::map<Ipv4, std::string>> Leases() const;

  const Ipv4Cidr& range() const { return range_; }

 private:
  Ipam(std::string dir, Ipv4Cidr range) : dir_(std::move(dir)), range_(range) {}
  Result<bool> TryClaim(Ipv4 ip, const std::string& owner);
  void RemoveTempFiles() const;

  std::string dir_;
  Ipv4Cidr range_;
};

}  // namespace cricket::network
