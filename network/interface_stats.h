#pragma once

// Per-interface traffic counters of a network namespace, read from /proc/<pid>/net/dev of a
// process inside it (the pod's infra process), so no setns is needed.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket::network {

struct InterfaceCounters {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
  // For CRI metrics (container_network_{receive,transmit}_packets[_dropped]_total).
  uint64_t rx_packets = 0;
  uint64_t rx_dropped = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_dropped = 0;
};

// The interfaces of a /proc/net/dev text in their order; kDataLoss naming the line it cannot
// read.
Result<std::vector<InterfaceCounters>> ParseNetDev(std::string_view text);

// The interfaces of the network namespace `pid` lives in.
Result<std::vector<InterfaceCounters>> ReadInterfaceCounters(pid_t pid);

}  // namespace cricket::network
