#include "storage/image_db_recovery.h"

#include <sys/stat.h>

#include <map>
#include <optional>

#include "common/log.h"

namespace cricket::storage {
namespace {

// Indexes and manifests are small; a layer is not read past this to find out it is not one.
constexpr int64_t kMaxDocumentBytes = 4 << 20;

struct Document {
  std::string media_type;
  std::string body;
};

// The blob as an index or image manifest, or nullopt for anything else (configs, layers).
std::optional<Document> ReadDocument(const ContentStore& content, const std::string& digest) {
  auto size = content.Size(digest);
  if (!size.ok() || *size > kMaxDocumentBytes) {
    return std::nullopt;
  }
  auto body = content.ReadBlob(digest, kMaxDocumentBytes);
  if (!body.ok()) {
    return std::nullopt;
  }
  auto media_type = ManifestMediaType(*body, "");
  if (!media_type.ok() || (!IsIndexMediaType(*media_type) && !IsManifestMediaType(*media_type))) {
    return std::nullopt;
  }
  return Document{*media_type, std::move(body).value()};
}

int64_t ModifiedAt(const ContentStore& content, const std::string& digest) {
  auto path = content.BlobPath(digest);
  struct stat st {};
  if (!path.ok() || ::stat(path->c_str(), &st) < 0) {
    return 0;
  }
  return static_cast<int64_t>(st.st_mtime);
}

// The image `manifest_digest` describes, or nullopt when a part of it is missing.
std::optional<Image> ImageOf(const ContentStore& content, const Snapshotter& snapshots,
                             const std::string& manifest_digest, const std::string& body,
                             const std::string& target_digest) {
  auto manifest = ParseImageManifest(body);
  if (!manifest.ok()) {
    return std::nullopt;
  }
  auto config_body = content.ReadBlob(manifest->config.digest, kMaxDocumentBytes);
  if (!config_body.ok()) {
    return std::nullopt;
  }
  auto config = ParseImageConfig(*config_body);
  if (!config.ok()) {
    return std::nullopt;
  }
  Image image;
  image.id = manifest->config.digest;
  image.target_digest = target_digest;
  image.manifest_digest = manifest_digest;
  image.size_bytes = static_cast<int64_t>(body.size()) + manifest->config.size;
  image.blobs = {target_digest, manifest_digest, manifest->config.digest};
  for (const Descriptor& layer : manifest->layers) {
    if (!content.Size(layer.digest).ok()) {
      return std::nullopt;
    }
    image.size_bytes += layer.size;
    image.blobs.push_back(layer.digest);
  }
  std::vector<std::string> chains = ChainIds(config->diff_ids);
  // Every layer's snapshot, not only the top one: a container's lowerdirs are all of them.
  for (const std::string& chain : chains) {
    if (!snapshots.HasLayer(chain)) {
      return std::nullopt;
    }
  }
  image.chain_id = chains.empty() ? "" : chains.back();
  image.config = std::move(config).value();
  image.pulled_at_unix = ModifiedAt(content, manifest_digest);
  return image;
}

}  // namespace

Result<ImageRecovery> RebuildImageDb(const ContentStore& content, const Snapshotter& snapshots,
                                     ImageDb& db) {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> digests, content.List());
  std::map<std::string, std::string> manifests;  // digest -> body
  std::map<std::string, std::string> target_of;  // manifest digest -> the index listing it
  for (const std::string& digest : digests) {
    std::optional<Document> doc = ReadDocument(content, digest);
    if (!doc.has_value()) {
      continue;
    }
    if (IsManifestMediaType(doc->media_type)) {
      // An image config has no mediaType either: only a document that parses as a manifest
      // counts as one.
      if (ParseImageManifest(doc->body).ok()) {
        manifests[digest] = std::move(doc->body);
      }
      continue;
    }
    auto entries = ParseIndex(doc->body);
    if (!entries.ok()) {
      continue;
    }
    for (const Descriptor& entry : *entries) {
      target_of.emplace(entry.digest, digest);
    }
  }
  ImageRecovery out;
  for (const auto& [digest, body] : manifests) {
    auto target = target_of.find(digest);
    std::optional<Image> image = ImageOf(content, snapshots, digest, body,
                                         target == target_of.end() ? digest : target->second);
    if (!image.has_value()) {
      ++out.incomplete;
      continue;
    }
    CR_RETURN_IF_ERROR(db.Put(*image));
    ++out.recovered;
    log::Info({}, "images.db rebuilt: image {} (manifest {}) recovered by id; its tags are lost",
              image->id, digest);
  }
  return out;
}

}  // namespace cricket::storage
