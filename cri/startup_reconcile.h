#pragma once

// Start-up reconcile of pod sandboxes (issue #14): what a crashed cricketd left half-made is
// made consistent before the first RPC, so that Status, Stop and Remove work on every pod.
//
// As containerd does after a restart, a sandbox that was not READY when cricketd died stays
// NotReady for kubelet to stop and remove (kubelet then makes a new attempt); it is not finished
// into a READY pod nobody asked for any more. What the reconcile does:
//   - a record whose runtime state does not decode (a record written by a Cricket that stored
//     it only at the end of RunPodSandbox) gets it back from the id and its config;
//   - a NotReady sandbox whose infra process still runs is stopped (its network was already
//     removed by the network reconcile, which keeps only READY pods');
//   - an infra shim dir or sandbox state dir whose sandbox has no record is stopped and removed;
//   - a running container left frozen is thawed: CRI has no paused state, only CheckpointContainer
//     freezes one, from its dump until its files are packed (cri/checkpoint_archive.h), and a
//     cricketd that died in between would otherwise leave it frozen for good.
// Each repair is logged once at info. Errors are logged at warn and do not stop cricketd.

namespace cricket::cri {

class CriService;

class StartupReconcile {
 public:
  // Call once, after the network reconcile and before serving.
  static void Run(CriService& service);

 private:
  // Defined in startup_reconcile.cc; friends of CriService.
  static void RepairRecords(CriService& service);
  static void StopHalfMadePods(CriService& service);
  static void RemoveOrphans(CriService& service);
  static void ThawFrozenContainers(CriService& service);
};

}  // namespace cricket::cri
