#pragma once

// Rebuilds MetadataStore records from what cricketd left under --state, after MetadataStore::Open
// set a damaged metadata.db aside. The CRI configs (pod and container specs as kubelet sent them)
// lived only in the lost file, so what comes back is what is needed to list, stop and remove
// the objects that still exist, not to run them as before:
//
//   sandboxes   one per <state>/sandboxes/<id>/ holding an infra bundle (infra/config.json):
//               metadata name "recovered-<first 12 of id>", namespace "cricket-recovered",
//               uid = id, attempt 0, label io.cricket.recovered=true; READY while its infra
//               shim's control socket exists (else NOTREADY); the netns, the name files,
//               the cgroup parent (from the infra's cgroupsPath) and the shim dir it had.
//               Its IPs, hostPort mappings, labels, annotations, log directory and runtime
//               handler are lost (StopPodSandbox tears the network down by pod id anyway).
//   containers  one per <state>/containers/<id>/config.json whose io.kubernetes.cri.sandbox-id
//               names a recovered sandbox: metadata name "recovered-<first 12 of id>", the tty
//               flag and the shim dir; recorded RUNNING so the next status call asks its shim
//               (or reads the shim's exit record). Image, command, log path are lost.
//
// Each recovered object is logged once at warn. Thread-compatible: runs before serving.

#include <string>

#include "common/result.h"
#include "cri/metadata_store.h"

namespace cricket::cri {

struct MetadataRecovery {
  int sandboxes = 0;
  int containers = 0;
  int skipped = 0;  // bundles whose config.json is unreadable or names no known sandbox
};

// Puts the records found under `state_dir` into `store` (expected empty: just set aside).
// Errors writing the store are returned; an unreadable bundle is skipped and counted.
Result<MetadataRecovery> RecoverMetadata(const std::string& state_dir, MetadataStore& store);

}  // namespace cricket::cri
