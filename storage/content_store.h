#pragma once

// ContentStore: content-addressed blobs under <root>/blobs/sha256/<hex>.
//
// A blob only appears under blobs/ after its bytes were checked against the expected digest and
// size: writers go through an Ingest, which writes <root>/ingest/<hex>.partial and renames it
// into place on Commit(). A partial file survives a failed or interrupted download so the next
// attempt resumes from its end (Range requests); a digest or size mismatch removes it.
//
// Thread-safe: the store keeps no mutable state in memory; concurrent writers of the same blob
// are serialised by an flock on the partial file.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "storage/digest.h"

namespace cricket::storage {

// One blob being written. Move-only; holds an exclusive lock on the partial file until it is
// committed or destroyed. Destroying an uncommitted Ingest keeps a non-empty partial file for a
// resume (an empty one is removed).
class Ingest {
 public:
  Ingest(Ingest&&) noexcept = default;
  Ingest& operator=(Ingest&&) noexcept = default;
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;
  ~Ingest();

  const std::string& digest() const { return digest_; }
  // Bytes already written (a resumed download continues from here).
  int64_t offset() const { return offset_; }
  // -1 when unknown.
  int64_t expected_size() const { return expected_size_; }

  // Appends. kDataLoss naming the blob (and the partial file is removed) when more bytes arrive
  // than the expected size.
  Result<void> Write(std::string_view data);
  // Drops what was written so far (a server that ignored a Range request resends from 0).
  Result<void> Restart();
  // Checks size and digest, fsyncs and renames into blobs/. On a mismatch: kDataLoss naming the
  // blob, and the partial file is removed.
  Result<void> Commit();
  // Removes the partial file.
  void Discard();

 private:
  friend class ContentStore;
  Ingest(std::string digest, int64_t expected_size, std::string partial_path, std::string blob_path,
         UniqueFd fd)
      : digest_(std::move(digest)),
        expected_size_(expected_size),
        partial_path_(std::move(partial_path)),
        blob_path_(std::move(blob_path)),
        fd_(std::move(fd)),
        hash_(std::make_unique<Sha256>()) {}
  Result<void> HashExisting();

  std::string digest_;
  int64_t expected_size_;
  std::string partial_path_;
  std::string blob_path_;
  UniqueFd fd_;
  std::unique_ptr<Sha256> hash_;
  int64_t offset_ = 0;
};

class ContentStore {
 public:
  // Creates <root>/blobs/sha256 and <root>/ingest when missing.
  static Result<std::unique_ptr<ContentStore>> Open(const std::string& root);

  const std::string& root() const { return root_; }
  // kInvalidArgument / kUnimplemented for a malformed or non-sha256 digest.
  Result<std::string> BlobPath(std::string_view digest) const;
  bool Has(std::string_view digest) const;
  // kNotFound when absent.
  Result<int64_t> Size(std::string_view digest) const;
  // Reads a whole small blob (manifests, configs). kResourceExhausted above `max_bytes`.
  Result<std::string> ReadBlob(std::string_view digest, int64_t max_bytes = 4 << 20) const;
  Result<UniqueFd> OpenBlob(std::string_view digest) const;
  // Writes a blob held in memory, verified like any other.
  Result<void> WriteBlob(std::string_view digest, std::string_view data);
  // Starts or resumes writing `digest`. `expected_size` < 0 means unknown. kAborted when another
  // writer holds the blob (the caller waits or retries later); kAlreadyExists when the blob is
  // already committed.
  Result<Ingest> StartIngest(std::string_view digest, int64_t expected_size);
  // Bytes of `digest` on disk: the blob's size when committed, else its partial download's
  // (0 when there is none). For progress reports; never fails.
  int64_t FetchedBytes(std::string_view digest) const;
  // Removes the blob and any partial file of it. OK when absent.
  Result<void> Delete(std::string_view digest);
  // Removes the partial download of `digest` unless a writer holds it (a failed pull that will
  // not be resumed). Returns whether a file was removed.
  Result<bool> DiscardPartial(std::string_view digest);
  // Digests of all committed blobs.
  Result<std::vector<std::string>> List() const;
  // Removes partial downloads (and temporaries of WriteBlob) not written to for
  // `max_age_seconds` and not locked by a writer; 0 removes every unlocked one (start-up).
  // Returns how many were removed.
  Result<int> PruneIngest(int64_t max_age_seconds);
  // Bytes used by blobs and partial files.
  Result<int64_t> UsageBytes() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace cricket::storage
