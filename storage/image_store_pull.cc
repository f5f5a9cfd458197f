// ImageStore::Pull and FetchLayers (image_store.h): resolve a reference at its registry,
// download the config and layers on parallel threads and unpack them into snapshots. The CRI
// PullImage handler in front of it is cri/image_pull.cc.

#include <fcntl.h>

#include <algorithm>
#include <chrono>
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

// Progress of one pull's layers: to the observer about once a second, to the log at info every
// `log_every` once the pull is long (a short pull logs nothing more than before).
class ProgressReporter {
 public:
  ProgressReporter(std::string ref, const std::vector<Descriptor>& layers,
                   const ContentStore& content, const PullObserver& observer,
                   std::chrono::milliseconds log_every)
      : ref_(std::move(ref)), content_(content), observer_(observer), log_every_(log_every) {
    progress_.layers = layers;
    progress_.fetched_bytes.assign(layers.size(), 0);
  }

  // `done` as the download threads left it. `last`: the final report, always sent to the
  // observer and never logged (Pull logs the result).
  void Report(const std::vector<bool>& done, bool last) {
    auto now = std::chrono::steady_clock::now();
    const bool observe = observer_ && (last || now - last_report_ >= kObserverEvery);
    const bool log = !last && now - last_log_ >= log_every_;
    if (!observe && !log) {
      return;
    }
    progress_.done = done;
    int64_t fetched = 0;
    int64_t total = 0;
    size_t n_done = 0;
    for (size_t i = 0; i < done.size(); ++i) {
      const Descriptor& l = progress_.layers[i];
      progress_.fetched_bytes[i] = done[i] ? l.size : content_.FetchedBytes(l.digest);
      fetched += progress_.fetched_bytes[i];
      total += l.size;
      n_done += done[i] ? 1 : 0;
    }
    progress_.elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
    if (observe) {
      last_report_ = now;
      observer_(progress_);
    }
    if (log) {
      last_log_ = now;
      const int64_t ms = std::max<int64_t>(1, progress_.elapsed_ms);
      log::Info({}, "pull {}: {}/{} layers, {} of {} bytes, {} KiB/s", ref_, n_done, done.size(),
                fetched, total, fetched * 1000 / ms / 1024);
    }
  }

 private:
  static constexpr auto kObserverEvery = std::chrono::seconds(1);

  std::string ref_;
  const ContentStore& content_;
  const PullObserver& observer_;
  const std::chrono::milliseconds log_every_;
  PullProgress progress_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_report_{};
  std::chrono::steady_clock::time_point last_log_ = start_;
};

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
                                     const std::vector<std::string>& diff_ids, Deadline deadline,
                                     const PullObserver& observer) {
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
  ProgressReporter progress(ref.String(), layers, *content_, observer,
                            std::chrono::milliseconds(options_.progress_log_interval_ms));
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
        for (bool ready = false; !ready;) {
          ready = shared.changed.wait_for(lock, std::chrono::milliseconds(250), [&] {
            return shared.done[i] || shared.error.has_value();
          });
          // Reported without the lock: the observer may block (a slow gRPC client).
          std::vector<bool> done = shared.done;
          lock.unlock();
          progress.Report(done, /*last=*/false);
          lock.lock();
        }
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
  if (result.ok()) {
    progress.Report(shared.done, /*last=*/true);
  }
  return result;
}

Result<Image> ImageStore::Pull(const std::string& ref_text, const AuthConfig& auth,
                               Deadline deadline, const PullObserver& observer) {
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
        FetchLayers(*registry, ref, auth, manifest.layers, config.diff_ids, deadline, observer));

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
