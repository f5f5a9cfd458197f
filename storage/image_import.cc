// ImageStore::Import (image_store.h): an image archive staged (image_archive.h), checked
// (image_import_plan.h), then stored like a pull stores an image: blobs -> layers -> record, so
// a crash leaves at worst unreferenced blobs and layers, which the next Open removes.
//
// The archive is staged under <root>/import-tmp/ (the same filesystem as the blobs) and the
// staging copy removed when the import ends; ImportDirectory (image_import_dir.h) clears what a
// crash left there. Disk: the archive's size twice while it runs (staging + blobs), plus layers.

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "storage/image_import_plan.h"
#include "storage/image_store.h"
#include "storage/reference.h"

namespace cricket::storage {
namespace {

constexpr size_t kImportCopyBytes = 256 * 1024;

// Copies a staged file into the content store through an Ingest, which checks the digest again
// and publishes with fsync + rename.
Result<void> StoreStaged(ContentStore& content, const std::string& digest, const StagedFile& file) {
  if (content.Has(digest)) {
    return Ok();
  }
  auto ingest = content.StartIngest(digest, file.size);
  if (!ingest.ok()) {
    return ingest.error().code() == Code::kAlreadyExists ? Ok() : ingest.error();
  }
  if (ingest->offset() > 0) {
    CR_RETURN_IF_ERROR(ingest->Restart());
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open staged " + file.path);
  }
  std::string buffer(kImportCopyBytes, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::FromErrno(errno, "read staged " + file.path);
    }
    if (n == 0) {
      break;
    }
    CR_RETURN_IF_ERROR(ingest->Write(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
  return ingest->Commit();
}

Image MakeImportedImage(const PlannedImage& planned) {
  Image image;
  image.id = planned.manifest.config.digest;
  image.repo_tags = planned.names;
  for (const std::string& name : planned.names) {
    auto ref = ParseReference(name);
    if (planned.registry_manifest && ref.ok()) {
      image.repo_digests.push_back(ref->Name() + "@" + planned.target_digest);
    }
  }
  image.size_bytes = planned.size_bytes;
  image.target_digest = planned.target_digest;
  image.manifest_digest = planned.manifest_digest;
  image.blobs = planned.blobs;
  std::vector<std::string> chains = ChainIds(planned.config.diff_ids);
  image.chain_id = chains.empty() ? "" : chains.back();
  image.config = planned.config;
  image.pulled_at_unix = static_cast<int64_t>(std::time(nullptr));
  return image;
}

// A fresh staging directory under <root>/import-tmp.
Result<std::string> MakeStagingDir(const std::string& root) {
  const std::string parent = root + "/import-tmp";
  CR_RETURN_IF_ERROR(MakeDirs(parent, 0700));
  std::string dir = parent + "/import-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    return Error::FromErrno(errno, "create staging directory under " + parent);
  }
  return dir;
}

}  // namespace

Result<std::vector<Image>> ImageStore::Import(const ByteSource& source) {
  CR_ASSIGN_OR_RETURN(const std::string dir, MakeStagingDir(options_.root));
  Cleanup remove_staging([&] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) {
      log::Warn({}, "remove import staging {}: {}", dir, ec.message());
    }
  });
  CR_ASSIGN_OR_RETURN(StagedArchive staged, StageArchive(source, dir));
  CR_ASSIGN_OR_RETURN(ImportPlan plan, PlanImport(staged, options_.platform));

  std::vector<std::string> held;
  for (const auto& [digest, unused] : plan.blobs) {
    held.push_back(digest);
  }
  for (const auto& [digest, unused] : plan.made) {
    held.push_back(digest);
  }
  for (const PlannedImage& image : plan.images) {
    std::vector<std::string> chains = ChainIds(image.config.diff_ids);
    held.insert(held.end(), chains.begin(), chains.end());
  }
  Hold(held);
  auto imported = [&]() -> Result<std::vector<Image>> {
    for (const auto& [digest, file] : plan.blobs) {
      CR_RETURN_IF_ERROR(StoreStaged(*content_, digest, file));
    }
    for (const auto& [digest, body] : plan.made) {
      CR_RETURN_IF_ERROR(content_->WriteBlob(digest, body));
    }
    for (const PlannedImage& image : plan.images) {
      const std::vector<std::string> chains = ChainIds(image.config.diff_ids);
      for (size_t i = 0; i < chains.size(); ++i) {
        const Descriptor& layer = image.manifest.layers[i];
        CR_ASSIGN_OR_RETURN(UniqueFd fd, content_->OpenBlob(layer.digest));
        auto applied = snapshots_->ApplyLayer(chains[i], i == 0 ? "" : chains[i - 1],
                                              image.config.diff_ids[i], fd.get());
        if (!applied.ok()) {
          return applied.error().Wrap("layer " + layer.digest);
        }
      }
    }
    std::vector<Image> images;
    for (const PlannedImage& planned : plan.images) {
      Image image = MakeImportedImage(planned);
      CR_RETURN_IF_ERROR(db_->Put(image));
      CR_ASSIGN_OR_RETURN(images.emplace_back(), Status(image.id));
    }
    return images;
  }();
  Release(held);
  if (!imported.ok()) {
    DropFailedPull("import", held);
    return imported.error().Wrap("import " + plan.format + " archive");
  }
  for (const Image& image : *imported) {
    log::Info({}, "imported {} ({}) as {}",
              image.repo_tags.empty() ? "<untagged>" : image.repo_tags[0], plan.format, image.id);
  }
  return imported;
}

}  // namespace cricket::storage
