#pragma once

// OCI image-spec and Docker schema2 documents: index / manifest list, image manifest and image
// config, parsed without exceptions; and platform selection from an index.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket::storage {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";

// The Accept header value for manifest requests: all four types above.
std::string ManifestAcceptHeader();
bool IsIndexMediaType(std::string_view media_type);
bool IsManifestMediaType(std::string_view media_type);
// OCI tar / tar+gzip / tar+zstd layers and Docker's rootfs.diff.tar.gzip (also foreign).
bool IsSupportedLayerMediaType(std::string_view media_type);

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = -1;
  Platform platform;  // index entries only
};

struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

// The parts of the image config Cricket keeps (for CreateContainer) and needs (diff_ids).
struct ImageConfig {
  std::string os;
  std::string architecture;
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::vector<std::string> volumes;
  std::map<std::string, std::string> labels;
  std::vector<std::string> diff_ids;
};

// The media type of a manifest document: its "mediaType" field, else the response's
// Content-Type (without parameters). kInvalidArgument when it is not valid JSON.
Result<std::string> ManifestMediaType(std::string_view body, std::string_view content_type);

// kInvalidArgument naming the problem for malformed documents.
Result<std::vector<Descriptor>> ParseIndex(std::string_view body);
Result<ImageManifest> ParseImageManifest(std::string_view body);
Result<ImageConfig> ParseImageConfig(std::string_view body);

// This node's platform ("linux", GOARCH-style architecture, variant for arm).
Platform HostPlatform();
// The first entry matching `want` (os and architecture equal; variant equal when both have one).
// kNotFound naming the platform when none does.
Result<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests, const Platform& want);

}  // namespace cricket::storage
