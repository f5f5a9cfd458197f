#include "tests/unit/storage/image_archive_fixture.h"

#include <nlohmann/json.hpp>

#include "storage/digest.h"

namespace cricket::storage::testing {

using Json = nlohmann::json;

namespace {

Json Desc(const std::string& media_type, const std::string& blob) {
  return {{"mediaType", media_type}, {"digest", Sha256Digest(blob)}, {"size", blob.size()}};
}

}  // namespace

std::string BlobPath(const std::string& digest) { return "blobs/sha256/" + digest.substr(7); }

TestImage MakeTestImage(const std::vector<std::vector<TarEntry>>& layers, Compression compression) {
  TestImage image;
  Json layer_descs = Json::array();
  const std::string media_type = compression == Compression::kGzip
                                     ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                     : "application/vnd.oci.image.layer.v1.tar";
  for (const auto& entries : layers) {
    std::string tar = BuildLayer(entries, Compression::kNone);
    image.diff_ids.push_back(Sha256Digest(tar));
    image.layers.push_back(compression == Compression::kNone ? tar : Compress(tar, compression));
    layer_descs.push_back(Desc(media_type, image.layers.back()));
  }
  image.config = Json{{"architecture", "amd64"},
                      {"os", "linux"},
                      {"config", {{"Cmd", {"/bin/app"}}, {"Env", {"A=1"}}}},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", image.diff_ids}}}}
                     .dump();
  image.manifest = Json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", Desc("application/vnd.oci.image.config.v1+json", image.config)},
      {"layers",
       layer_descs}}.dump();
  return image;
}

std::vector<TarEntry> OciLayoutEntries(const TestImage& image, const std::string& name) {
  Json entry = Desc("application/vnd.oci.image.manifest.v1+json", image.manifest);
  if (!name.empty()) {
    entry["annotations"] = {{"io.containerd.image.name", name},
                            {"org.opencontainers.image.ref.name", "latest"}};
  }
  Json index{{"schemaVersion", 2}, {"manifests", {entry}}};
  std::vector<TarEntry> out = {File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"),
                               File("index.json", index.dump()),
                               Dir("blobs"),
                               Dir("blobs/sha256"),
                               File(BlobPath(Sha256Digest(image.manifest)), image.manifest),
                               File(BlobPath(Sha256Digest(image.config)), image.config)};
  for (const std::string& layer : image.layers) {
    out.push_back(File(BlobPath(Sha256Digest(layer)), layer));
  }
  return out;
}

std::vector<TarEntry> DockerSaveEntries(const TestImage& image, const std::string& tag) {
  const std::string config_name = Sha256Digest(image.config).substr(7) + ".json";
  std::vector<TarEntry> out = {File(config_name, image.config)};
  Json layers = Json::array();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    std::string name = std::to_string(i) + "/layer.tar";
    out.push_back(Dir(std::to_string(i)));
    out.push_back(File(name, image.layers[i]));
    layers.push_back(name);
  }
  Json tags = tag.empty() ? Json(nullptr) : Json{tag};
  Json manifest = Json::array({{{"Config", config_name}, {"RepoTags", tags}, {"Layers", layers}}});
  // Docker writes manifest.json last: the importer must not need it first.
  out.push_back(File("manifest.json", manifest.dump()));
  return out;
}

}  // namespace cricket::storage::testing
