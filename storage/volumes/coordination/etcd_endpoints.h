#pragma once

// Turns etcd client URLs into one gRPC channel target.

#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::storage {

// "http://127.0.0.1:2379" -> "ipv4:127.0.0.1:2379"; "http://[::1]:2379" -> "ipv6:[::1]:2379";
// "http://etcd.local:2379" -> "dns:///etcd.local:2379". Several endpoints become one address
// list ("ipv4:10.0.0.1:2379,10.0.0.2:2379") that gRPC fails over between (pick_first), so
// they must all be IP literals of one family. kInvalidArgument naming the offending endpoint:
// none given, not http:// (https is not supported yet), no port, a path, mixed families.
Result<std::string> EtcdChannelTarget(const std::vector<std::string>& endpoints);

}  // namespace cricket::storage
