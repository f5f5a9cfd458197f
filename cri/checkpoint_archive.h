#pragma once

// The checkpoint archive of one container, in the layout CRI-O and Podman write and
// checkpointctl reads (kubelet's checkpoint API hands its path on unchanged):
//
//   checkpoint/       the CRIU images (+ dump.log, descriptors.json)
//   spec.dump         the OCI spec the container ran with (its bundle's config.json)
//   config.dump       checkpointctl's container config (id, name, rootfsImageName, ...), plus
//                     "cricketContainerConfig": the CRI ContainerConfig it was created from
//   rootfs-diff.tar   its writable layer (the overlay upper dir; whiteouts as 0/0 devices)
//
// A pod archive (CheckpointPod) holds `pod.dump` (the PodSandboxConfig) and one such tree per
// container under `containers/<name>/`.
// Writing is atomic: the archive appears at its final path complete, or not at all.

#include <string>

#include "common/result.h"
#include "cri/metadata_store.h"
#include "cri/object_info.h"
#include "cri/service.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

inline constexpr const char* kCheckpointDir = "checkpoint";
inline constexpr const char* kSpecDump = "spec.dump";
inline constexpr const char* kConfigDump = "config.dump";
inline constexpr const char* kRootfsDiffTar = "rootfs-diff.tar";
inline constexpr const char* kPodDump = "pod.dump";
inline constexpr const char* kPodContainersDir = "containers";

// CheckpointPod option (CheckpointPodRequest.options): "true" moves the pod away instead of
// taking a forensic copy. Each container is stopped by its dump (criu kills it once the images
// are complete: nothing runs after the state was taken), then the pod's portable volumes get
// their final snapshot and are released, then the archive appears. RestorePod on another node
// attaches the volumes (restored to that snapshot) before criu resumes the processes.
inline constexpr const char* kMigrateOption = "cricket.io/migrate";

// kFailedPrecondition naming why when CRIU cannot checkpoint here (not installed, or `criu
// check` fails on this kernel).
Result<void> CriuReady();

// kFailedPrecondition naming why when `record` is not the init of a PID namespace of its own
// (namespace_options.pid POD, NODE or TARGET): criu refuses to dump a PID namespace without
// its init ("Can't dump a pid namespace without the process init"), and a container in the
// node's or another's PID namespace cannot be restored with its PIDs. Checked before anything
// is written, so the caller answers at once, also on a node where CRIU does not run.
Result<void> CheckDumpable(const ContainerRecord& record);

// Dumps the running container into `dir` in the layout above. With `leave_running` false the
// container's processes are killed once the dump is complete (a migration), else it goes on.
Result<void> DumpContainer(const CriDeps& deps, const ContainerRecord& record,
                           const ContainerInfo& info, const std::string& dir,
                           bool leave_running = true);

// Packs `dir` into the tar `location` (a temp name beside it, renamed at the end; removed on
// failure). kInvalidArgument when `location`'s directory does not exist.
Result<void> WriteArchive(const std::string& dir, const std::string& location);

// Unpacks the archive `path` into the empty directory `dir` (names that escape are refused).
Result<void> ExtractArchive(const std::string& path, const std::string& dir);

// What a restore needs of an unpacked container checkpoint.
struct ContainerCheckpoint {
  std::string dir;                        // the unpacked tree
  std::string image_name;                 // the image it ran from
  ::runtime::v1::ContainerConfig config;  // the CRI config it was created with
  std::string images_dir() const { return dir + "/" + kCheckpointDir; }
};

// kInvalidArgument naming the file when `dir` is not a container checkpoint.
Result<ContainerCheckpoint> ReadContainerCheckpoint(const std::string& dir);

// Applies its rootfs-diff.tar to the fresh writable layer `upper_dir`.
Result<void> ApplyRootfsDiff(const ContainerCheckpoint& checkpoint, const std::string& upper_dir);

// True when a CreateContainer image names a checkpoint archive: an absolute path to a file.
bool IsCheckpointArchive(const std::string& image);

// The config a restored container is created with: the request's (pod-specific: mounts, log
// path, labels) with the checkpoint's image, and its command, args, env and working dir when
// the request gives none (CRI-O does the same).
::runtime::v1::ContainerConfig RestoredConfig(const ::runtime::v1::ContainerConfig& request,
                                              const ContainerCheckpoint& checkpoint);

}  // namespace cricket::cri
