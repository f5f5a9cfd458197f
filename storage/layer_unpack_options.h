#pragma once

// The options of one layer unpack (see layer_unpack.h for what UnpackLayer does with them),
// shared by UnpackLayer and the LayerEntryWriter that writes each entry.

#include <cstdint>
#include <string>

namespace cricket::storage {

// How whiteouts are written (see UnpackOptions::whiteouts).
enum class WhiteoutMode {
  // An image layer unpacked into an empty layer directory for overlayfs: whiteouts become
  // overlay whiteouts and opaque markers an xattr (layer_unpack.h).
  kOverlay,
  // A layer applied onto the tree the directory already holds (volume snapshots, restored by
  // applying their layers in order): a whiteout removes its target, an opaque marker removes the
  // directory's entries that did not come from this layer.
  kApply,
};

struct UnpackOptions {
  // Root: chown entries to their owners, create device nodes, set trusted.* xattrs. Otherwise
  // device nodes are skipped and files belong to the caller.
  bool privileged = true;
  // "trusted.overlay." for a kernel overlay mount; "user.overlay." for a userxattr mount.
  std::string overlay_xattr_prefix = "trusted.overlay.";
  // When set, the uncompressed digest must match ("sha256:<hex>"), else kDataLoss.
  std::string expected_diff_id;
  WhiteoutMode whiteouts = WhiteoutMode::kOverlay;
  // Caps per layer (must be > 0), checked while streaming: the uncompressed tar stream may not
  // exceed max_uncompressed_bytes and may not hold more than max_entries entries.
  int64_t max_uncompressed_bytes = int64_t{16} << 30;  // 16 GiB
  int64_t max_entries = 1000000;
};

}  // namespace cricket::storage
