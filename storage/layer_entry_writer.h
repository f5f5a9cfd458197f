#pragma once

// LayerEntryWriter: turns one tar entry (libarchive) into a file under a layer directory, safely
// (see layer_unpack.h). Directory mtimes are applied in Finish(), after all their children exist.
// Not thread-safe; one per unpack.

#include <archive.h>
#include <archive_entry.h>
#include <time.h>

#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "storage/layer_unpack_options.h"

namespace cricket::storage {

class LayerEntryWriter {
 public:
  LayerEntryWriter(int layer_fd, const UnpackOptions& options)
      : layer_fd_(layer_fd), options_(options) {}

  // Writes `entry`; regular file data is read from `archive`.
  Result<void> Write(archive* archive, archive_entry* entry);
  // Applies deferred directory times.
  Result<void> Finish();

 private:
  struct DirTimes {
    std::string path;
    timespec times[2];
  };
  Result<void> WriteWhiteout(int parent_fd, const std::string& name, const std::string& what);
  Result<void> WriteOpaque(int parent_fd, const std::string& dir_path, const std::string& what);
  // kApply: remembers `path` and its parents as written by this layer.
  void NoteWritten(const std::string& path);
  Result<void> WriteDirectory(int parent_fd, const std::string& name, const std::string& path,
                              archive_entry* entry);
  Result<void> WriteRegular(int parent_fd, const std::string& name, archive* archive,
                            archive_entry* entry);
  Result<void> WriteHardlink(int parent_fd, const std::string& name, archive_entry* entry);
  Result<void> WriteSpecial(int parent_fd, const std::string& name, archive_entry* entry);
  Result<void> ApplyMetadata(int parent_fd, const std::string& name, int fd, archive_entry* entry);
  Result<void> ApplyXattrs(int fd, archive_entry* entry, const std::string& what);

  int layer_fd_;
  const UnpackOptions& options_;
  std::vector<DirTimes> dir_times_;
  // kApply only: paths this layer wrote, which an opaque marker must keep.
  std::set<std::string> written_;
};

}  // namespace cricket::storage
