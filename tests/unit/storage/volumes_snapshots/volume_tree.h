#pragma once

// Test helpers for volume snapshots: build a tree of files quickly and describe a tree so two
// can be compared (type, mode, size, content checksum, symlink target, file mtime).

#include <map>
#include <string>

namespace cricket::storage::volumes::testing {

// path -> "type mode [size sha256 mtime | mtime | -> target]" for files, directories and
// symlinks; the root included as ".".
std::map<std::string, std::string> DescribeTree(const std::string& root);

void WriteFile(const std::string& path, const std::string& data, unsigned mode = 0644);
// Deterministic pseudo-random bytes (incompressible enough for zstd).
std::string RandomBytes(size_t n, unsigned seed);

}  // namespace cricket::storage::volumes::testing
