#pragma once

// IPv4 addresses and CIDR ranges as plain values (host byte order), with parsing that names
// what is wrong.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::network {

struct Ipv4 {
  uint32_t value = 0;  // host byte order

  static Result<Ipv4> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const Ipv4&) const = default;
};

struct Ipv4Cidr {
  Ipv4 network;  // masked
  int prefix = 0;

  // "10.88.0.0/16". kInvalidArgument for a bad address, a prefix outside 0..30 (a pod range
  // needs room for a gateway and a pod) or host bits set.
  static Result<Ipv4Cidr> Parse(std::string_view text);
  std::string ToString() const;

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  Ipv4 broadcast() const { return {network.value | ~mask()}; }
  // The first usable address: the bridge's.
  Ipv4 gateway() const { return {network.value + 1}; }
  bool Contains(Ipv4 ip) const { return (ip.value & mask()) == network.value; }
  // True when the two ranges share an address (one contains the other's network).
  bool Overlaps(const Ipv4Cidr& other) const {
    return Contains(other.network) || other.Contains(network);
  }
  bool operator==(const Ipv4Cidr&) const = default;
};

}  // namespace cricket::network
