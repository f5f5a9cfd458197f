#include "storage/volumes/snapshots/snapshot_artifact.h"

#include <nlohmann/json.hpp>

namespace cricket::storage::volumes {

using Json = nlohmann::json;

namespace {

Json DescriptorJson(const Descriptor& d) {
  return {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
}

}  // namespace

std::string SerializeSnapshotConfig(const SnapshotConfig& config) {
  Json j = {{"created", config.created},
            {"parent", config.parent},
            {"root",
             {{"mode", config.root.mode},
              {"uid", config.root.uid},
              {"gid", config.root.gid},
              {"mtime_ns", config.root.mtime_ns}}},
            {"diff_ids", config.diff_ids}};
  return j.dump();
}

Result<SnapshotConfig> ParseSnapshotConfig(std::string_view body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  Error bad(Code::kInvalidArgument, "volume snapshot config is malformed");
  if (!j.is_object()) {
    return bad;
  }
  SnapshotConfig c;
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  c.created = str("created");
  c.parent = str("parent");
  auto root = j.find("root");
  if (root == j.end() || !root->is_object()) {
    return bad;
  }
  for (const char* key : {"mode", "uid", "gid", "mtime_ns"}) {
    auto it = root->find(key);
    if (it == root->end() || !it->is_number_integer()) {
      return bad;
    }
  }
  c.root.mode = (*root)["mode"].get<uint32_t>() & 07777;
  c.root.uid = (*root)["uid"].get<uint32_t>();
  c.root.gid = (*root)["gid"].get<uint32_t>();
  c.root.mtime_ns = (*root)["mtime_ns"].get<int64_t>();
  auto ids = j.find("diff_ids");
  if (ids == j.end() || !ids->is_array()) {
    return bad;
  }
  for (const Json& id : *ids) {
    if (!id.is_string()) {
      return bad;
    }
    c.diff_ids.push_back(id.get<std::string>());
  }
  return c;
}

std::string SerializeSnapshotManifest(const Descriptor& config,
                                      const std::vector<Descriptor>& layers,
                                      const std::string& parent, const std::string& created) {
  Json jl = Json::array();
  for (const Descriptor& l : layers) {
    jl.push_back(DescriptorJson(l));
  }
  Json annotations = {{"org.opencontainers.image.created", created}};
  if (!parent.empty()) {
    annotations["io.cricket.volume.parent"] = parent;
  }
  Json j = {{"schemaVersion", 2},
            {"mediaType", kOciManifest},
            {"artifactType", kSnapshotArtifactType},
            {"config", DescriptorJson(config)},
            {"layers", std::move(jl)},
            {"annotations", std::move(annotations)}};
  return j.dump();
}

Result<ImageManifest> ParseSnapshotManifest(std::string_view body) {
  CR_ASSIGN_OR_RETURN(ImageManifest m, ParseImageManifest(body));
  if (m.config.media_type != kSnapshotConfigType) {
    return Error(Code::kFailedPrecondition,
                 "manifest is not a volume snapshot: config type \"" + m.config.media_type + "\"");
  }
  for (const Descriptor& l : m.layers) {
    if (!IsSupportedLayerMediaType(l.media_type)) {
      return Error(Code::kFailedPrecondition, "volume snapshot layer " + l.digest +
                                                  " has unsupported media type \"" + l.media_type +
                                                  "\"");
    }
  }
  m.media_type = std::string(kOciManifest);
  return m;
}

}  // namespace cricket::storage::volumes
