#pragma once

// ImportDirectory: cricketd's start-up import of the archives an operator placed in
// <root>/images-import/ (k3s' agent/images habit), for nodes without a registry.
//
// Every regular file there (dot files skipped) is imported with ImageStore::Import, in name
// order, and logged once: info with the names it brought, or warn with why it was skipped — a
// bad archive never stops cricketd. A file imported before (same name, size and mtime, recorded
// in <root>/images-import.json) whose images are all still in the store is not read again.
// With `pin`, the images of every file (also the unchanged ones) are reported pinned
// (ImageStore::PinIds). First, what a crashed import left under <root>/import-tmp is removed.
// Not thread-safe against other imports into the same root: run it before serving.

#include <string>

#include "storage/image_store.h"

namespace cricket::storage {

struct DirImportSummary {
  int imported = 0;   // files imported now
  int unchanged = 0;  // files imported before and not read again
  int failed = 0;     // files logged and skipped
};

DirImportSummary ImportDirectory(ImageStore& store, const std::string& root, bool pin);

}  // namespace cricket::storage
