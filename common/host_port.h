#pragma once

// "<ip>:<port>" addresses of listening sockets in the configuration ([streaming] address).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket {

struct HostPort {
  std::string host;  // an IPv4 or IPv6 literal, without brackets
  uint16_t port = 0;
};

// Splits "<ipv4>:<port>" or "[<ipv6>]:<port>". Host names are not resolved: a listen address
// must not depend on DNS at start-up. kInvalidArgument naming `address` otherwise.
Result<HostPort> ParseHostPort(std::string_view address);

}  // namespace cricket
