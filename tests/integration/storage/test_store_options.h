#pragma once

// The ImageStoreOptions every registry and crash test of the image store starts from: a store
// under `root`, the built cricket-fetch, linux/amd64, and layers unpacked as this process can
// (privileged with trusted.overlay.* xattrs as root, user.overlay.* otherwise).

#include <string>
#include <utility>

#include "storage/image_store.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {

inline ImageStoreOptions TestStoreOptions(std::string root) {
  ImageStoreOptions options;
  options.root = std::move(root);
  options.fetch_binary = CRICKET_FETCH_PATH;
  options.platform = Platform{"linux", "amd64", ""};
  options.unpack.privileged = ::cricket::testing::IsRoot();
  options.unpack.overlay_xattr_prefix =
      options.unpack.privileged ? "trusted.overlay." : "user.overlay.";
  return options;
}

}  // namespace cricket::storage
