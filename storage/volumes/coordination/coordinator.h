#pragma once

// VolumeCoordinator: who may attach a portable volume read-write, and where its newest snapshot
// is (issue #7). A node attaches a volume only while it holds the volume's lease; every lease
// carries a fencing token that grows with each new owner, and every head publish is checked
// against it, so a node that lost its lease (crash, partition, expiry) can never overwrite the
// head written by the node that took over.
//
// Backends: "local" (one machine: lock files under a directory) and "etcd" (a cluster: an etcd
// v3 key with a lease per volume). See storage/volumes/coordination/README.md.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace cricket::storage {

// The right to attach `volume` read-write on `node`. A plain value: the volume manager may
// persist it and hand it back after a restart (KeepAlive then resumes it while still valid).
struct VolumeLease {
  std::string volume;
  std::string node;
  // Fencing token: strictly greater than the token of every earlier owner of this volume.
  // etcd: the owner key's create_revision; local: a counter persisted per volume.
  int64_t token = 0;
  // etcd: the lease ID; 0 for the local backend.
  int64_t lease_id = 0;
  // How long the lease lives without a KeepAlive; zero when it never expires on its own
  // (local: it lasts while this process holds the lock).
  std::chrono::seconds ttl{0};
};

// Where the volume's newest snapshot is.
struct VolumeHead {
  std::string manifest_digest;  // "sha256:..."
  int64_t token = 0;            // the fencing token of the lease that published it
};

// One row of `cricketctl volumes ls`: every volume that has an owner, a head, or both.
struct VolumeOwner {
  std::string volume;
  std::string node;   // empty when nobody holds the volume
  int64_t token = 0;  // the owner's token; 0 when unowned
  std::optional<VolumeHead> head;
};

struct CoordinatorOptions {
  std::string backend = "local";  // "local" or "etcd"
  // local: the directory of lock, token and head files, created when missing
  // (cricketd: <root>/volumes/coordination).
  std::string local_dir;
  // etcd: client URLs, "http://127.0.0.1:2379". Several endpoints must be IP literals (gRPC
  // then fails over between them); a host name works as the only endpoint. No TLS yet.
  std::vector<std::string> etcd_endpoints;
  // etcd: keys are <prefix><volume>/owner and <prefix><volume>/head.
  std::string etcd_prefix = "/cricket/volumes/";
  // etcd: lease TTL; whole seconds, as etcd grants them. At least 1 s.
  std::chrono::seconds lease_ttl{10};
  // etcd: deadline of each request, so an unreachable etcd fails instead of hanging.
  std::chrono::milliseconds request_timeout{3000};

  // The defaults of each backend with its one required setting.
  static CoordinatorOptions Local(std::string dir) {
    CoordinatorOptions options;
    options.local_dir = std::move(dir);
    return options;
  }
  static CoordinatorOptions Etcd(std::vector<std::string> endpoints) {
    CoordinatorOptions options;
    options.backend = "etcd";
    options.etcd_endpoints = std::move(endpoints);
    return options;
  }
};

// One per node. Every method is thread-safe (a LeaseKeeper calls KeepAlive from its thread).
class VolumeCoordinator {
 public:
  virtual ~VolumeCoordinator() = default;

  // Takes the lease on `volume` for `node`, without waiting.
  // kUnavailable "volume X is owned by node Y" while another live lease holds it (also when
  // that holder is `node` itself: a lease is held once); kUnavailable naming the endpoint when
  // etcd cannot be reached; kInvalidArgument for a bad volume or node name.
  virtual Result<VolumeLease> Acquire(const std::string& volume, const std::string& node) = 0;

  // Renews the lease (etcd) or checks it is still held (local). kAborted once the lease is lost
  // for good (expired, taken over, released); kUnavailable when etcd cannot be reached (the
  // lease may still be alive: retry, and treat it as lost once its TTL has passed).
  virtual Result<void> KeepAlive(const VolumeLease& lease) = 0;

  // Gives the lease up. Idempotent: a lease already released, expired or taken over is OK.
  virtual Result<void> Release(const VolumeLease& lease) = 0;

  // The published head, or nullopt when the volume has none yet.
  virtual Result<std::optional<VolumeHead>> ReadHead(const std::string& volume) = 0;

  // Records `head` as the volume's newest snapshot, atomically with a check that `lease` still
  // owns the volume; the stored head's token is `lease.token` (head.token is ignored).
  // kAborted "... fenced ..." when the lease is no longer the volume's owner.
  virtual Result<void> PublishHead(const VolumeLease& lease, const VolumeHead& head) = 0;

  // Every volume with an owner or a head, sorted by name.
  virtual Result<std::vector<VolumeOwner>> List() = 0;
};

// Builds the backend `options.backend` names. kInvalidArgument naming the bad option for an
// unknown backend, a local backend without a directory, an etcd backend without endpoints or
// with a malformed one, a TTL under 1 s. Does not contact etcd (its first request does).
Result<std::unique_ptr<VolumeCoordinator>> MakeCoordinator(const CoordinatorOptions& options);

// Volume names are what a path component and an etcd key segment can both carry:
// 1-128 of [A-Za-z0-9._-], not starting with '.'. Node names: 1-253 printable characters
// without '/' or whitespace. kInvalidArgument naming `field` otherwise.
Result<void> ValidateVolumeName(const std::string& volume);
Result<void> ValidateNodeName(const std::string& node);

}  // namespace cricket::storage
