#pragma once

// VolumeIndex: what the last snapshot of a volume recorded about every entry of the volume
// directory (path, type, mode, owner, size, times, inode, content hash), kept in the node's
// local state dir so the next snapshot only packs what changed. ScanVolume() walks a volume
// directory without following symlinks; LoadIndex()/SaveIndex() persist the index as JSON,
// crash-safely (write-to-temp + fsync + rename).
//
// Pure data and file functions; thread-compatible.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/manifest.h"

namespace cricket::storage::volumes {

enum class EntryType : char {
  kFile = 'f',
  kDir = 'd',
  kSymlink = 'l',
  kFifo = 'p',
  kCharDevice = 'c',
  kBlockDevice = 'b',
};

struct IndexEntry {
  std::string path;  // relative to the volume root, "/"-separated, never "" or "."
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits incl. set-id and sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t nlink = 1;
  uint64_t rdev = 0;
  std::string link_target;  // symlinks
  // "sha256:<hex>" of a regular file's content when known, else "".
  std::string hash;
  // The content packed for this entry may be torn (it kept changing while it was read): the
  // next snapshot packs it again whatever its metadata says.
  bool dirty = false;

  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

// Attributes of the volume root itself (a tar layer does not carry them).
struct RootAttributes {
  uint32_t mode = 0755;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;

  friend bool operator==(const RootAttributes&, const RootAttributes&) = default;
};

struct VolumeIndex {
  // The snapshot this index describes, its layers from base to head and their diff_ids.
  std::string manifest_digest;
  std::vector<Descriptor> layers;
  std::vector<std::string> diff_ids;
  // CLOCK_REALTIME when the scan began: a file whose mtime is not clearly older may have been
  // changed again within the same timestamp tick, so its content is compared by hash.
  int64_t scan_time_ns = 0;
  RootAttributes root;
  // Parents before children (pre-order, children sorted by name).
  std::vector<IndexEntry> entries;
};

struct ScanResult {
  RootAttributes root;
  std::vector<IndexEntry> entries;  // pre-order, children sorted by name; sockets are skipped
};

// Walks `volume_dir` with openat(O_NOFOLLOW) from a directory fd; never follows symlinks and
// never leaves the tree. kNotFound when the directory does not exist.
Result<ScanResult> ScanVolume(const std::string& volume_dir);

// The content hash ("sha256:<hex>") of the regular file `entry` names under `volume_fd`, opened
// with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS).
Result<std::string> HashVolumeFile(int volume_fd, const IndexEntry& entry);

// kNotFound when there is no index; kDataLoss naming the file when it is malformed.
Result<VolumeIndex> LoadIndex(const std::string& path);
Result<void> SaveIndex(const std::string& path, const VolumeIndex& index);

}  // namespace cricket::storage::volumes
