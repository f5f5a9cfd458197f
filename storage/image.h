#pragma once

// Image: what Cricket knows about one pulled image, as ImageStore returns it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/manifest.h"

namespace cricket::storage {

struct Image {
  std::string id;                         // the config digest, "sha256:<hex>"
  std::vector<std::string> repo_tags;     // "docker.io/library/busybox:latest"
  std::vector<std::string> repo_digests;  // "docker.io/library/busybox@sha256:..."
  int64_t size_bytes = 0;                 // manifest + config + compressed layers
  std::string target_digest;              // what the tag pointed at (index or manifest)
  std::string manifest_digest;            // the platform manifest
  std::string chain_id;                   // chain ID of the top layer ("" for no layers)
  std::vector<std::string> blobs;         // every blob the image needs in the content store
  ImageConfig config;                     // User, Env, Entrypoint, Cmd, ... and diff_ids
  int64_t pulled_at_unix = 0;
  bool pinned = false;
};

// CRI ImageStatus reports USER either as a uid or as a user name: "1000" and "1000:1000" give
// uid 1000; "app" and "app:grp" give username "app"; "" gives neither.
struct ImageUser {
  std::optional<int64_t> uid;
  std::string username;
};
ImageUser ParseImageUser(const std::string& user);

}  // namespace cricket::storage
