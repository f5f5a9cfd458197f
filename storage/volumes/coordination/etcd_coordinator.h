#pragma once

// The "etcd" coordination backend: portable volumes across a cluster, through etcd's v3 gRPC
// API (etcd 3.4, our own rendering in etcd_api/).
//
// Keys, per volume:
//   <prefix><volume>/owner  value = node name, attached to a lease of options.lease_ttl, created
//                           by a Txn only if absent (create_revision == 0). Its create_revision
//                           is the fencing token.
//   <prefix><volume>/head   the head record, no lease; written by a Txn that first compares the
//                           owner key's create_revision, value and lease with the publisher's.

#include <memory>

#include "common/result.h"
#include "storage/volumes/coordination/coordinator.h"

namespace cricket::storage {

// kInvalidArgument for no endpoints, an endpoint that is not http://host:port, several
// endpoints that are not all IP literals, a TTL under 1 s. Does not dial.
Result<std::unique_ptr<VolumeCoordinator>> MakeEtcdCoordinator(const CoordinatorOptions& options);

}  // namespace cricket::storage
