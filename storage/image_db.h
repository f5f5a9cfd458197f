#pragma once

// ImageDb: the persisted image metadata, in its own SQLite file (<root>/images.db).
//   images(id, target/manifest digests, chain id, size, config JSON, blobs JSON, pulled_at)
//   image_names(name PRIMARY KEY, is_digest, image_id -> images ON DELETE CASCADE)
// A name (tag or repo digest) belongs to exactly one image; putting it on another image moves
// it. Thread-safe (an internal mutex).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sqlite.h"
#include "storage/image.h"

namespace cricket::storage {

class ImageDb {
 public:
  // Opens or creates the file. A damaged one (not SQLite, truncated, failing quick_check, an
  // unknown schema) is moved aside and an empty db opened (common/sqlite.h OpenOrSetAside);
  // set_aside_path() then names it and the caller rebuilds the rows
  // (storage/image_db_recovery.h).
  static Result<std::unique_ptr<ImageDb>> Open(const std::string& path);

  // Where Open moved a damaged file ("" when it was sound) and what was wrong with it.
  const std::string& set_aside_path() const { return set_aside_path_; }
  const std::string& set_aside_problem() const { return set_aside_problem_; }

  // Inserts or replaces the image and attaches its repo_tags and repo_digests (adding to the
  // names it already has), in one transaction.
  Result<void> Put(const Image& image);
  // kNotFound for an unknown id.
  Result<Image> Get(const std::string& id) const;
  // The image id a tag or repo digest names, or nullopt.
  Result<std::optional<std::string>> FindByName(const std::string& name) const;
  // Ids starting with "sha256:<hex_prefix>".
  Result<std::vector<std::string>> FindByIdPrefix(const std::string& hex_prefix) const;
  Result<std::vector<Image>> List() const;
  // Removes one name. Returns the image it named (nullopt when unknown).
  Result<std::optional<std::string>> DeleteName(const std::string& name);
  // Removes tag `tag` and, in the same transaction, its image when no other tag is left (a
  // crash cannot leave an image without tags that no RemoveImage by tag would remove). Returns
  // the image the tag named (nullopt when unknown).
  Result<std::optional<std::string>> DeleteTag(const std::string& tag);
  // Removes the image and all its names. OK when unknown.
  Result<void> DeleteImage(const std::string& id);

 private:
  explicit ImageDb(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Result<Image> GetLocked(const std::string& id) const;

  mutable std::mutex mu_;
  std::unique_ptr<Database> db_;  // Guarded by mu_.
  std::string set_aside_path_;
  std::string set_aside_problem_;
};

}  // namespace cricket::storage
