#pragma once

// Start-up reconcile of containers (issue #14): what a crash of cricketd, of a shim, or a lost
// record left, finished or removed before cricketd serves. Each repair is logged once at info.
//
// - A record in the created state whose shim is gone and that has no exit record: a
//   CreateContainer cut short (or a shim that died before its start) — removed through
//   RemoveContainer, which undoes every step a create may have done.
// - A record in the created state whose shim runs the container: a StartContainer cut short
//   after the shim started it — recorded as running.
// - A running record whose shim is gone: with an exit record, the exit is recorded; without
//   one, the container (which nothing monitors any more) is killed through the runtime and
//   recorded as exited.
// - An exited record whose bundle is gone (a RemoveContainer cut short): removed. (A record
//   always has its sandbox's: the store keeps them together.)
// - Orphans, named by no container or sandbox record: shim dirs (the shim, if it still runs,
//   kills and deletes its container; the dir goes), containers in Cricket's runtime root
//   (deleted, force), bundles (rootfs unmounted, snapshot and dir removed).
// Sandboxes are cri/startup_reconcile.h's; this runs after it.

#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "cri/config.h"
#include "cri/container_rootfs.h"
#include "cri/metadata_store.h"
#include "cri/shim_access.h"
#include "oci/cgroup_detect.h"

namespace cricket::cri {

class CriService;

struct ContainerReconcileDeps {
  const Config* config = nullptr;
  MetadataStore* store = nullptr;
  ShimAccess* shims = nullptr;
  ContainerRootfs* rootfs = nullptr;
  // For containers whose shim is gone; without them those are left to RemoveContainer.
  Syscalls* sys = nullptr;
  Result<oci::CgroupInfo> cgroups = Error(Code::kUnavailable, "cgroups not detected");
};

// Runs every repair above, through `service`'s RPCs where one exists. The repairs made, one
// line each as logged. An error only when the store cannot be listed; a repair that fails is
// logged at warn and left for the next start (or kubelet's RemoveContainer).
// Call before serving: nothing else may change containers meanwhile.
Result<std::vector<std::string>> ReconcileContainers(CriService& service,
                                                     const ContainerReconcileDeps& deps);

}  // namespace cricket::cri
