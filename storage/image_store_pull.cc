// ImageStore::Pull and FetchLayers (image_store.h): resolve a reference at its registry,
// download the config and layers on parallel threads and unpack them into snapshots. The CRI
// PullImage handler in front of it is cri/image_pull.cc.

#include <fcntl.h>

#include <condition_variable>
#include <ctime>
#include <optional>
#include <thread>

#include "common/failpoint.h"
#include "common/log.h"
#include "storage/image_store.h"
#include "storage/registry_client.h"

namespace cricket::storage {
namespace {

// Progress of the layer downloads of one pull, shared by its download threads.
struct LayerDownloads {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<bool> done;      // Guarded by mu.
  std::vector<size_t> todo;    // layers to download (not unpacked yet); set before start
  size_t next = 0;             // Guarded by mu. Index into todo.
  std::optional<Error> error;  // Guarded by mu.
};

// Keeps the partial downloads of a pull that may be resumed; drops the rest.
bool KeepsPartialWork(const Error& e) {
  return e.code() == Code::kDeadlineExceeded || e.code() == Code::kUnavailable ||
         e.code() == Code::kCancelled;
}

// One download thread of a pull: takes the next layer not yet taken until none is left or any
// failed. Returns the number of blob requests it sent.
int DownloadLayers(const RegistryConfig& registry, const HttpClient& http, const Reference& ref,
                   const AuthConfig& auth, const std::vector<Descriptor>& layers,
                   ContentStore& content, Deadline deadline, LayerDownloads& shared) {
  auto session = RegistrySession::Create(registry, http, ref, auth);
  for (;;) {
    size_t i = 0;
    {
      std::lock_guard lock(shared.mu);
      if (!session.ok() && !shared.error) {
        shared.error = session.error();
      }
      if (shared.error || shared.next >= shared.todo.size()) {
        shared.changed.notify_all();
        break;
      }
      i = shared.todo[shared.next++];
    }
    auto r = (*session)->FetchBlob(layers[i], content, deadline);
    std::lock_guard lock(shared.mu);
    if (!r.ok() && !shared.error) {
      shared.error = r.error().Wrap("fetch layer " + layers[i].digest);
    }
    shared.done[i] = true;
    shared.changed.notify_all();
  }
  return session.ok() ? (*session)->blob_requests() : 0;
}

Image MakeImage(const Reference& ref, const ResolvedImage& resolved, ImageConfig config) {
  const ImageManifest& manifest = resolved.manifest;
  Image image;
  image.id = manifest.config.digest;
  if (!ref.tag().empty()) {
    image.repo_tags.push_back(ref.TagString());
  }
  image.repo_digests.push_back(ref.Name() + "@" + resolved.target_digest);
  image.size_bytes = static_cast<int64_t>(resolved.manifest_body.size()) + manifest.config.size;
  image.target_digest = resolved.target_digest;
  image.manifest_digest = resolved.manifest_digest;
  image.blobs = {resolved.target_digest, resolved.manifest_digest, manifest.config.digest};
  for (const Descriptor& l : manifest.layers) {
    image.size_bytes += l.size;
    image.blobs.push_back(l.digest);
  }
  std::vector<std::string> chains = ChainIds(config.diff_ids);
  image.chain_id = chains.empty() ? "" : chains.back();
  image.config = std::move(config);
  image.pulled_at_unix = static_cast<int64_t>(std::time(nullptr));
  return image;
}

}  // namespace

Result<void> ImageStore::FetchLayers(const RegistryConfig& registry, const Reference& ref,
                                     const AuthConfig& auth, const std::vector<Descriptor>& layers,
                                     const std::vector<std::string>& diff_ids, Deadline deadline) {
  LayerDownloads shared;
  shared.done.assign(layers.size(), false);
  // A layer already unpacked under its chain ID (shared with another image) is not downloaded.
  std::vector<std::string> chains = ChainIds(diff_ids);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (snapshots_->HasLayer(chains[i])) {
      shared.done[i] = true;
    } else {
      shared.todo.push_back(i);
    }
  }
  auto worker = [&] {
    blob_requests_ +=
        DownloadLayers(registry, http_, ref, auth, layers, *content_, deadline, shared);
  };
  size_t n_workers =
      std::min<size_t>(shared.todo.size(), static_cast<size_t>(options_.max_parallel_downloads));
  Result<void> result = Ok();
  {
    std::vector<std::jthread> workers;  // joined when this block ends, before `shared` goes
    for (size_t w = 0; w < n_workers; ++w) {
      workers.emplace_back(worker);
    }
    // Unpack in order while later layers still download.
    for (size_t i = 0; i < layers.size() && result.ok(); ++i) {
      {
        std::unique_lock lock(shared.mu);
        shared.changed.wait(lock, [&] { return shared.done[i] || shared.error.has_value(); });
        if (shared.error) {
          result = *shared.error;
          break;
        }
      }
      std::string parent = i == 0 ? "" : chains[i - 1];
      if (!snapshots_->HasLayer(chains[i])) {
        auto fd = content_->OpenBlob(layers[i].digest);
        result = fd.ok() ? snapshots_->ApplyLayer(chains[i], parent, diff_ids[i], fd->get())
                         : fd.error();
        if (!result.ok()) {
          result = result.error().Wrap("layer " + layers[i].digest);
        }
      }
      if (!result.ok()) {
        std::lock_guard lock(shared.mu);
        shared.error = result.error();  // stops the download threads
      }
    }
  }
  return result;
}

Result<Image> ImageStore::Pull(const std::string& ref_text, const AuthConfig& auth,
                               Deadline deadline) {
  CR_ASSIGN_OR_RETURN(Reference ref, ParseReference(ref_text));
  // This pull's settings: a reload (Reconfigure) during it does not change them under it.
  const std::shared_ptr<const RegistryConfig> registry = this->registry();
  auto session = RegistrySession::Create(*registry, http_, ref, auth);
  if (!session.ok()) {
    return session.error().Wrap("pull " + ref.String());
  }
  auto resolved = (*session)->Resolve(options_.platform, deadline);
  if (!resolved.ok()) {
    return resolved.error().Wrap("pull " + ref.String());
  }
  const ImageManifest& manifest = resolved->manifest;
  std::vector<std::string> held = {resolved->target_digest, resolved->manifest_digest,
                                   manifest.config.digest};
  for (const Descriptor& l : manifest.layers) {
    held.push_back(l.digest);
  }
  Hold(held);

  auto pulled = [&]() -> Result<Image> {
    CR_RETURN_IF_ERROR(content_->WriteBlob(resolved->target_digest, resolved->target_body));
    CR_RETURN_IF_ERROR(content_->WriteBlob(resolved->manifest_digest, resolved->manifest_body));
    CR_FAILPOINT(kImagePullAfterManifest);
    CR_RETURN_IF_ERROR((*session)->FetchBlob(manifest.config, *content_, deadline));
    blob_requests_ += (*session)->blob_requests();
    CR_ASSIGN_OR_RETURN(std::string config_body, content_->ReadBlob(manifest.config.digest));
    CR_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_body));
    if (config.diff_ids.size() != manifest.layers.size()) {
      return Error(Code::kInvalidArgument,
                   "manifest " + resolved->manifest_digest + " has " +
                       std::to_string(manifest.layers.size()) + " layers but its config lists " +
                       std::to_string(config.diff_ids.size()) + " diff_ids");
    }
    std::vector<std::string> chains = ChainIds(config.diff_ids);
    Hold(chains);
    held.insert(held.end(), chains.begin(), chains.end());
    CR_RETURN_IF_ERROR(
        FetchLayers(*registry, ref, auth, manifest.layers, config.diff_ids, deadline));

    Image image = MakeImage(ref, *resolved, std::move(config));
    CR_FAILPOINT(kImagePullBeforeRecord);  // every blob and layer in place, no record yet
    CR_RETURN_IF_ERROR(db_->Put(image));
    // The image is complete from here: a failure reports an error, the next pull finds it.
    CR_FAILPOINT(kImagePullAfterRecord);
    return Status(image.id);
  }();
  Release(held);
  if (!pulled.ok()) {
    if (!KeepsPartialWork(pulled.error())) {
      // A failed pull leaves nothing behind (partial downloads of a resumable failure stay).
      DropFailedPull(ref.String(), held);
    }
    return pulled.error().Wrap("pull " + ref.String());
  }
  log::Info({}, "pulled {} as {}", ref.String(), pulled->id);
  return pulled;
}

}  // namespace cricket::storage
