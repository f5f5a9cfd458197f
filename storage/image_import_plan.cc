#include "storage/image_import_plan.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/reference.h"

namespace cricket::storage {

using Json = nlohmann::json;

namespace {

constexpr std::string_view kBlobsPrefix = "blobs/";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";

Result<Json> ParseJsonFile(const StagedArchive& archive, const std::string& name) {
  CR_ASSIGN_OR_RETURN(std::string body, archive.Read(name));
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(Code::kInvalidArgument, "archive file " + name + " is not valid JSON");
  }
  return j;
}

// Every blobs/<alg>/<hex> file hashes to its name (image-spec image-layout.md: "blobs").
Result<void> VerifyNamedBlobs(const StagedArchive& archive) {
  for (const auto& [name, file] : archive.files) {
    if (!name.starts_with(kBlobsPrefix)) {
      continue;
    }
    std::string rest = name.substr(kBlobsPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos) {
      continue;  // not a blob path; the documents never name it
    }
    std::string algorithm = rest.substr(0, slash);
    if (algorithm != "sha256") {
      return Error(Code::kUnimplemented, "blob " + name + ": only sha256 digests are supported");
    }
    if (file.digest != "sha256:" + rest.substr(slash + 1)) {
      return Error(Code::kDataLoss, "blob " + name + " does not match its digest (its content is " +
                                        file.digest + ")");
    }
  }
  return Ok();
}

// The staged blob `d` names, its size checked against the descriptor.
Result<StagedFile> BlobOf(const StagedArchive& archive, const Descriptor& d,
                          const std::string& what) {
  CR_ASSIGN_OR_RETURN(std::string hex, Sha256Hex(d.digest));
  const StagedFile* file = archive.Find("blobs/sha256/" + hex);
  if (file == nullptr) {
    return Error(Code::kInvalidArgument,
                 what + " names blob " + d.digest + ", which the archive lacks");
  }
  if (d.size >= 0 && d.size != file->size) {
    return Error(Code::kDataLoss, "blob " + d.digest + " is " + std::to_string(file->size) +
                                      " bytes, " + what + " says " + std::to_string(d.size));
  }
  return *file;
}

// A tag as Cricket stores it, or "" for a name that carries none (digest-only, bare tag).
std::string TagName(const std::string& text) {
  auto ref = ParseReference(text);
  return ref.ok() ? ref->TagString() : "";
}

std::vector<std::string> OciNames(const Json& entry) {
  auto annotations = entry.find("annotations");
  if (annotations == entry.end() || !annotations->is_object()) {
    return {};
  }
  for (const char* key : {"io.containerd.image.name", "org.opencontainers.image.ref.name"}) {
    auto it = annotations->find(key);
    if (it == annotations->end() || !it->is_string()) {
      continue;
    }
    std::string name = it->get<std::string>();
    // A bare tag ("latest", "v1") would parse as docker.io/library/latest: not a name.
    bool full = name.find_first_of("/:@") != std::string::npos;
    if (std::string tag = TagName(name); full && !tag.empty()) {
      return {tag};
    }
  }
  return {};
}

bool PlatformMatches(const Platform& have, const Platform& want) {
  return have.os.empty() ||
         (have.os == want.os && have.architecture == want.architecture &&
          (have.variant.empty() || want.variant.empty() || have.variant == want.variant));
}

// Manifest -> config -> layers of one image, every blob checked and added to the plan.
Result<void> AddImageBlobs(const StagedArchive& archive, const Descriptor& manifest_desc,
                           PlannedImage& image, ImportPlan& plan) {
  CR_ASSIGN_OR_RETURN(StagedFile manifest_file, BlobOf(archive, manifest_desc, "index"));
  CR_ASSIGN_OR_RETURN(std::string body, ReadFile(manifest_file.path));
  auto manifest = ParseImageManifest(body);
  if (!manifest.ok()) {
    return manifest.error().Wrap("manifest " + manifest_desc.digest);
  }
  image.manifest_digest = manifest_desc.digest;
  image.manifest = *manifest;
  plan.blobs[manifest_desc.digest] = manifest_file;
  const std::string what = "manifest " + manifest_desc.digest;
  CR_ASSIGN_OR_RETURN(StagedFile config_file, BlobOf(archive, manifest->config, what));
  CR_ASSIGN_OR_RETURN(std::string config_body, ReadFile(config_file.path));
  auto config = ParseImageConfig(config_body);
  if (!config.ok()) {
    return config.error().Wrap("config " + manifest->config.digest);
  }
  if (config->diff_ids.size() != manifest->layers.size()) {
    return Error(Code::kInvalidArgument, what + " has " + std::to_string(manifest->layers.size()) +
                                             " layers but its config lists " +
                                             std::to_string(config->diff_ids.size()) + " diff_ids");
  }
  image.config = *config;
  plan.blobs[manifest->config.digest] = config_file;
  image.size_bytes = manifest_file.size + config_file.size;
  image.blobs = {image.target_digest, manifest_desc.digest, manifest->config.digest};
  for (const Descriptor& layer : manifest->layers) {
    CR_ASSIGN_OR_RETURN(plan.blobs[layer.digest], BlobOf(archive, layer, what));
    image.size_bytes += plan.blobs[layer.digest].size;
    image.blobs.push_back(layer.digest);
  }
  return Ok();
}

Result<void> AddOciEntry(const StagedArchive& archive, const Descriptor& entry,
                         std::vector<std::string> names, const Platform& platform,
                         ImportPlan& plan) {
  PlannedImage image;
  image.target_digest = entry.digest;
  image.names = std::move(names);
  Descriptor manifest_desc = entry;
  if (IsIndexMediaType(entry.media_type)) {
    CR_ASSIGN_OR_RETURN(StagedFile index_file, BlobOf(archive, entry, "index.json"));
    CR_ASSIGN_OR_RETURN(std::string body, ReadFile(index_file.path));
    auto nested = ParseIndex(body);
    if (!nested.ok()) {
      return nested.error().Wrap("index " + entry.digest);
    }
    auto selected = SelectPlatform(*nested, platform);
    if (!selected.ok()) {
      return selected.error().Wrap("index " + entry.digest);
    }
    manifest_desc = *selected;
    plan.blobs[entry.digest] = index_file;
  }
  CR_RETURN_IF_ERROR(AddImageBlobs(archive, manifest_desc, image, plan));
  // Several entries for one image (one per tag, as `images export` writes them) make one image.
  for (PlannedImage& known : plan.images) {
    if (known.manifest_digest == image.manifest_digest) {
      for (std::string& n : image.names) {
        if (std::find(known.names.begin(), known.names.end(), n) == known.names.end()) {
          known.names.push_back(std::move(n));
        }
      }
      return Ok();
    }
  }
  plan.images.push_back(std::move(image));
  return Ok();
}

Result<ImportPlan> PlanOci(const StagedArchive& archive, const Platform& platform) {
  CR_ASSIGN_OR_RETURN(Json layout, ParseJsonFile(archive, "oci-layout"));
  std::string version = layout.is_object() && layout.value("imageLayoutVersion", Json()).is_string()
                            ? layout["imageLayoutVersion"].get<std::string>()
                            : "";
  if (!version.starts_with("1.")) {
    return Error(Code::kInvalidArgument,
                 "oci-layout: unsupported imageLayoutVersion \"" + version + "\"");
  }
  CR_ASSIGN_OR_RETURN(std::string index_body, archive.Read("index.json"));
  auto entries = ParseIndex(index_body);
  if (!entries.ok()) {
    return entries.error().Wrap("index.json");
  }
  Json index = Json::parse(index_body, nullptr, /*allow_exceptions=*/false);
  ImportPlan plan;
  plan.format = "oci";
  for (size_t i = 0; i < entries->size(); ++i) {
    const Descriptor& entry = (*entries)[i];
    if (!IsIndexMediaType(entry.media_type) && !PlatformMatches(entry.platform, platform)) {
      continue;  // another platform's manifest of a multi-platform layout
    }
    CR_RETURN_IF_ERROR(
        AddOciEntry(archive, entry, OciNames(index["manifests"][i]), platform, plan));
  }
  if (plan.images.empty()) {
    return Error(Code::kInvalidArgument, "index.json lists no image for this platform");
  }
  return plan;
}

// The layer media type of a docker-save layer file, from its first bytes.
Result<std::string> LayerMediaType(const StagedFile& file) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open staged " + file.path);
  }
  unsigned char magic[4] = {};
  ssize_t n = ::read(fd.get(), magic, sizeof(magic));
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    return std::string(kOciLayerTar) + "+gzip";
  }
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    return std::string(kOciLayerTar) + "+zstd";
  }
  return std::string(kOciLayerTar);
}

std::string MakeManifest(const ImageManifest& m) {
  auto desc = [](const Descriptor& d) {
    return Json{{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  };
  Json layers = Json::array();
  for (const Descriptor& l : m.layers) {
    layers.push_back(desc(l));
  }
  return Json{{"schemaVersion", 2},
              {"mediaType", kOciManifest},
              {"config", desc(m.config)},
              {"layers", layers}}
      .dump();
}

Result<PlannedImage> PlanDockerImage(const StagedArchive& archive, const Json& entry,
                                     ImportPlan& plan) {
  if (!entry.is_object() || !entry.value("Config", Json()).is_string() ||
      !entry.value("Layers", Json()).is_array()) {
    return Error(Code::kInvalidArgument, "manifest.json: an entry lacks Config or Layers");
  }
  const std::string config_name = entry["Config"].get<std::string>();
  const StagedFile* config_file = archive.Find(config_name);
  if (config_file == nullptr) {
    return Error(Code::kInvalidArgument,
                 "manifest.json names config " + config_name + ", which the archive lacks");
  }
  // Docker names the config <hex>.json after its digest.
  if (std::string base = config_name.substr(0, config_name.size() - 5);
      config_name.ends_with(".json") && IsHex64(base) && config_file->digest != "sha256:" + base) {
    return Error(Code::kDataLoss, "config " + config_name +
                                      " does not match its digest (its content is " +
                                      config_file->digest + ")");
  }
  CR_ASSIGN_OR_RETURN(std::string config_body, archive.Read(config_name));
  auto config = ParseImageConfig(config_body);
  if (!config.ok()) {
    return config.error().Wrap("config " + config_name);
  }
  const Json& layers = entry["Layers"];
  if (config->diff_ids.size() != layers.size()) {
    return Error(Code::kInvalidArgument, "manifest.json: config " + config_name + " lists " +
                                             std::to_string(config->diff_ids.size()) +
                                             " diff_ids for " + std::to_string(layers.size()) +
                                             " layers");
  }
  PlannedImage image;
  image.registry_manifest = false;
  image.config = *config;
  image.manifest.media_type = kOciManifest;
  image.manifest.config = {std::string(kOciConfig), config_file->digest, config_file->size, {}};
  plan.blobs[config_file->digest] = *config_file;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string name = layers[i].is_string() ? layers[i].get<std::string>() : "";
    const StagedFile* file = archive.Find(name);
    if (file == nullptr) {
      return Error(Code::kInvalidArgument,
                   "manifest.json names layer \"" + name + "\", which the archive lacks");
    }
    CR_ASSIGN_OR_RETURN(std::string media_type, LayerMediaType(*file));
    // An uncompressed layer is its own diff; a compressed one is checked while it is unpacked.
    if (media_type == kOciLayerTar && file->digest != config->diff_ids[i]) {
      return Error(Code::kDataLoss, "layer " + name + " hashes to " + file->digest +
                                        " but its config's diff_id is " + config->diff_ids[i]);
    }
    image.manifest.layers.push_back({media_type, file->digest, file->size, {}});
    plan.blobs[file->digest] = *file;
  }
  std::string manifest_body = MakeManifest(image.manifest);
  image.manifest_digest = Sha256Digest(manifest_body);
  image.target_digest = image.manifest_digest;
  plan.made[image.manifest_digest] = manifest_body;
  image.size_bytes = static_cast<int64_t>(manifest_body.size()) + config_file->size;
  image.blobs = {image.manifest_digest, config_file->digest};
  for (const Descriptor& l : image.manifest.layers) {
    image.size_bytes += l.size;
    image.blobs.push_back(l.digest);
  }
  const Json tags = entry.value("RepoTags", Json());
  for (const Json& t : tags.is_array() ? tags : Json::array()) {
    std::string tag = t.is_string() ? TagName(t.get<std::string>()) : "";
    if (tag.empty()) {
      return Error(Code::kInvalidArgument,
                   "manifest.json: RepoTags entry " + t.dump() + " is not a valid image reference");
    }
    image.names.push_back(tag);
  }
  return image;
}

Result<ImportPlan> PlanDocker(const StagedArchive& archive) {
  CR_ASSIGN_OR_RETURN(Json manifest, ParseJsonFile(archive, "manifest.json"));
  if (!manifest.is_array() || manifest.empty()) {
    return Error(Code::kInvalidArgument, "manifest.json is not a non-empty array");
  }
  ImportPlan plan;
  plan.format = "docker-save";
  for (const Json& entry : manifest) {
    CR_ASSIGN_OR_RETURN(PlannedImage image, PlanDockerImage(archive, entry, plan));
    plan.images.push_back(std::move(image));
  }
  return plan;
}

// Docker 25+ writes both layouts; an index.json entry without a name annotation still has
// its RepoTags in manifest.json, matched by config digest.
Result<void> AddDockerTags(const StagedArchive& archive, ImportPlan& plan) {
  CR_ASSIGN_OR_RETURN(Json manifest, ParseJsonFile(archive, "manifest.json"));
  for (const Json& entry : manifest.is_array() ? manifest : Json::array()) {
    const StagedFile* config = entry.is_object() && entry.value("Config", Json()).is_string()
                                   ? archive.Find(entry["Config"].get<std::string>())
                                   : nullptr;
    const Json tags = entry.is_object() ? entry.value("RepoTags", Json()) : Json();
    for (PlannedImage& image : plan.images) {
      if (config == nullptr || !image.names.empty() ||
          config->digest != image.manifest.config.digest || !tags.is_array()) {
        continue;
      }
      for (const Json& t : tags) {
        if (std::string tag = t.is_string() ? TagName(t.get<std::string>()) : ""; !tag.empty()) {
          image.names.push_back(tag);
        }
      }
    }
  }
  return Ok();
}

}  // namespace

Result<ImportPlan> PlanImport(const StagedArchive& archive, const Platform& platform) {
  CR_RETURN_IF_ERROR(VerifyNamedBlobs(archive));
  // Docker 25+ writes both layouts into one tarball; the OCI one carries the registry's digests.
  if (archive.Find("index.json") != nullptr && archive.Find("oci-layout") != nullptr) {
    CR_ASSIGN_OR_RETURN(ImportPlan plan, PlanOci(archive, platform));
    if (archive.Find("manifest.json") != nullptr) {
      CR_RETURN_IF_ERROR(AddDockerTags(archive, plan));
    }
    return plan;
  }
  if (archive.Find("manifest.json") != nullptr) {
    return PlanDocker(archive);
  }
  return Error(Code::kInvalidArgument,
               "archive is neither an OCI image layout (oci-layout, index.json) nor a docker "
               "save tarball (manifest.json)");
}

}  // namespace cricket::storage
