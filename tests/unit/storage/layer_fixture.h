#pragma once

// Builds tar layers in memory with libarchive for the storage tests, hostile ones included.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cricket::storage::testing {

struct TarEntry {
  std::string path;
  unsigned type = 0100000;  // AE_IFREG; AE_IFDIR 0040000, AE_IFLNK 0120000, AE_IFCHR 0020000
  unsigned perm = 0644;
  std::string data;
  std::string symlink;
  std::string hardlink;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 1000000000;
  dev_t rdev = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

enum class Compression { kNone, kGzip, kZstd };

TarEntry File(std::string path, std::string data, unsigned perm = 0644);
TarEntry Dir(std::string path, unsigned perm = 0755);
TarEntry Symlink(std::string path, std::string target);
TarEntry Hardlink(std::string path, std::string target);

// The layer blob (compressed as asked) of `entries`, written in order.
std::string BuildLayer(const std::vector<TarEntry>& entries, Compression compression);

// `plain` compressed as asked, byte for byte (e.g. a tar followed by a run of zeros).
std::string Compress(const std::string& plain, Compression compression);

}  // namespace cricket::storage::testing
