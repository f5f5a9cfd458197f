#pragma once

// Image archives (cricketctl images import/export, <root>/images-import/): the byte streams they
// travel in, and StageArchive, which reads one tar into a private staging directory.
//
// StageArchive copies every regular file of the tar (plain, gzip or zstd) into `dir` under a
// numbered name, hashing it on the way, so the importer (storage/image_import_plan.h) can look
// at the files in any order — a `docker save` tarball names its manifest.json last — and check
// each against its digest before anything reaches the content store. Entry names are checked
// like layer entries (storage/layer_path.h): absolute names and ".." components are refused.
// Symlinks and hard links (old `docker save` links a shared layer.tar) become aliases of the
// file they name inside the archive; one that points outside or nowhere is refused.
// Thread-compatible; no state beyond the call.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::storage {

// The next chunk of a stream; an empty view at its end. The view stays valid until the next
// call. Errors are passed on as they are.
using ByteSource = std::function<Result<std::string_view>()>;
// Takes the next chunk of an output stream.
using ByteSink = std::function<Result<void>(std::string_view)>;

// Reads `fd` (a file or a pipe) in blocks. The fd stays the caller's.
ByteSource FdByteSource(int fd);
// Writes to `fd`, naming `what` in errors.
ByteSink FdByteSink(int fd, std::string what);

struct StagedFile {
  std::string path;    // the copy under the staging dir
  std::string digest;  // "sha256:<hex>" of its bytes
  int64_t size = 0;
};

struct StagedArchive {
  std::string dir;
  // Clean entry name ("blobs/sha256/<hex>", "manifest.json") -> its copy. Aliases share a copy.
  std::map<std::string, StagedFile> files;

  const StagedFile* Find(const std::string& name) const;
  // A whole small file (JSON documents). kInvalidArgument naming `name` when it is absent,
  // kResourceExhausted above `max_bytes`.
  Result<std::string> Read(const std::string& name, int64_t max_bytes = 4 << 20) const;
};

struct StageLimits {
  int64_t max_entries = 100000;
};

// Reads the tar from `source` into the existing empty directory `dir`. kInvalidArgument naming
// the entry for a hostile name, a link leaving the archive, or an unsupported entry type;
// kInvalidArgument "truncated or not a tar archive" for a stream libarchive cannot read to its
// end; kResourceExhausted past `limits`; errno codes for the staging directory. On error `dir`
// holds partial files: the caller removes it.
Result<StagedArchive> StageArchive(const ByteSource& source, const std::string& dir,
                                   const StageLimits& limits = {});

}  // namespace cricket::storage
