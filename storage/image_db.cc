#include "storage/image_db.h"

#include <nlohmann/json.hpp>

#include "common/cleanup.h"
#include "storage/json_fields.h"

namespace cricket::storage {

using Json = nlohmann::json;

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY,
  target_digest TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  config TEXT NOT NULL,
  blobs TEXT NOT NULL,
  pulled_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_names (
  name TEXT PRIMARY KEY,
  is_digest INTEGER NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_names_by_image ON image_names(image_id);
)sql";

// A statement failing on the schema (a table of ours with other columns) means the file is not
// an images.db this build knows: kDataLoss, so OpenOrSetAside moves it aside.
Result<void> CreateAndVerifySchema(Database& db) {
  if (auto created = db.Exec(kSchema); !created.ok()) {
    return AsUnknownSchema(created.error(), db.path());
  }
  for (std::string_view sql :
       {"SELECT id, target_digest, manifest_digest, chain_id, size, config, blobs, pulled_at "
        "FROM images LIMIT 0",
        "SELECT name, is_digest, image_id FROM image_names LIMIT 0"}) {
    if (auto stmt = db.Prepare(sql); !stmt.ok()) {
      return AsUnknownSchema(stmt.error(), db.path());
    }
  }
  return Ok();
}

std::string Dump(const Json& j) {
  // replace: invalid UTF-8 from a registry must not throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ConfigToJson(const ImageConfig& c) {
  Json j = {{"os", c.os},
            {"architecture", c.architecture},
            {"user", c.user},
            {"env", c.env},
            {"entrypoint", c.entrypoint},
            {"cmd", c.cmd},
            {"working_dir", c.working_dir},
            {"stop_signal", c.stop_signal},
            {"volumes", c.volumes},
            {"labels", c.labels},
            {"diff_ids", c.diff_ids}};
  return Dump(j);
}

Result<ImageConfig> ConfigFromJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Code::kDataLoss, "stored image config is not JSON");
  }
  ImageConfig c;
  c.os = JsonString(j, "os");
  c.architecture = JsonString(j, "architecture");
  c.user = JsonString(j, "user");
  c.env = JsonStringList(j, "env");
  c.entrypoint = JsonStringList(j, "entrypoint");
  c.cmd = JsonStringList(j, "cmd");
  c.working_dir = JsonString(j, "working_dir");
  c.stop_signal = JsonString(j, "stop_signal");
  c.volumes = JsonStringList(j, "volumes");
  c.diff_ids = JsonStringList(j, "diff_ids");
  auto labels = j.find("labels");
  if (labels != j.end() && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      if (v.is_string()) {
        c.labels[k] = v.get<std::string>();
      }
    }
  }
  return c;
}

Result<std::vector<std::string>> ParseList(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return Error(Code::kDataLoss, "stored blob list is not a JSON array");
  }
  std::vector<std::string> out;
  for (const Json& v : j) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ImageDb>> ImageDb::Open(const std::string& path) {
  CR_ASSIGN_OR_RETURN(CheckedDatabase checked, OpenOrSetAside(path, CreateAndVerifySchema));
  std::unique_ptr<ImageDb> db(new ImageDb(std::move(checked.db)));
  db->set_aside_path_ = std::move(checked.set_aside_path);
  db->set_aside_problem_ = std::move(checked.problem);
  return db;
}

Result<void> ImageDb::Put(const Image& image) {
  std::lock_guard lock(mu_);
  CR_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Cleanup rollback([&] { (void)db_->Exec("ROLLBACK"); });
  {
    CR_ASSIGN_OR_RETURN(
        Statement st,
        db_->Prepare("INSERT INTO images(id, target_digest, manifest_digest, chain_id, size, "
                     "config, blobs, pulled_at) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "
                     "target_digest=?2, manifest_digest=?3, chain_id=?4, size=?5, config=?6, "
                     "blobs=?7, pulled_at=?8"));
    st.Bind(1, image.id)
        .Bind(2, image.target_digest)
        .Bind(3, image.manifest_digest)
        .Bind(4, image.chain_id)
        .Bind(5, image.size_bytes)
        .Bind(6, ConfigToJson(image.config))
        .Bind(7, Dump(Json(image.blobs)))
        .Bind(8, image.pulled_at_unix);
    CR_RETURN_IF_ERROR(st.Run());
  }
  auto put_names = [&](const std::vector<std::string>& names, int64_t is_digest) -> Result<void> {
    for (const std::string& name : names) {
      CR_ASSIGN_OR_RETURN(
          Statement st,
          db_->Prepare("INSERT INTO image_names(name, is_digest, image_id) VALUES(?1, ?2, ?3) "
                       "ON CONFLICT(name) DO UPDATE SET is_digest=?2, image_id=?3"));
      st.Bind(1, name).Bind(2, is_digest).Bind(3, image.id);
      CR_RETURN_IF_ERROR(st.Run());
    }
    return Ok();
  };
  CR_RETURN_IF_ERROR(put_names(image.repo_tags, 0));
  CR_RETURN_IF_ERROR(put_names(image.repo_digests, 1));
  CR_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  rollback.Dismiss();
  return Ok();
}

Result<Image> ImageDb::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  return GetLocked(id);
}

Result<Image> ImageDb::GetLocked(const std::string& id) const {
  CR_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(
          "SELECT id, target_digest, manifest_digest, chain_id, size, config, blobs, pulled_at "
          "FROM images WHERE id = ?1"));
  st.Bind(1, id);
  CR_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    return Error(Code::kNotFound, "image " + id + " not found");
  }
  Image image;
  image.id = st.ColumnText(0);
  image.target_digest = st.ColumnText(1);
  image.manifest_digest = st.ColumnText(2);
  image.chain_id = st.ColumnText(3);
  image.size_bytes = st.ColumnInt(4);
  CR_ASSIGN_OR_RETURN(image.config, ConfigFromJson(st.ColumnText(5)));
  CR_ASSIGN_OR_RETURN(image.blobs, ParseList(st.ColumnText(6)));
  image.pulled_at_unix = st.ColumnInt(7);
  CR_ASSIGN_OR_RETURN(
      Statement names,
      db_->Prepare("SELECT name, is_digest FROM image_names WHERE image_id = ?1 ORDER BY rowid"));
  names.Bind(1, id);
  for (;;) {
    CR_ASSIGN_OR_RETURN(bool more, names.Step());
    if (!more) {
      break;
    }
    (names.ColumnInt(1) != 0 ? image.repo_digests : image.repo_tags).push_back(names.ColumnText(0));
  }
  return image;
}

Result<std::optional<std::string>> ImageDb::FindByName(const std::string& name) const {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT image_id FROM image_names WHERE name = ?1"));
  st.Bind(1, name);
  CR_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(st.ColumnText(0));
}

Result<std::vector<std::string>> ImageDb::FindByIdPrefix(const std::string& hex_prefix) const {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT id FROM images WHERE substr(id, 1, ?2) = ?1"));
  std::string prefix = "sha256:" + hex_prefix;
  st.Bind(1, prefix).Bind(2, static_cast<int64_t>(prefix.size()));
  std::vector<std::string> out;
  for (;;) {
    CR_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return out;
    }
    out.push_back(st.ColumnText(0));
  }
}

Result<std::vector<Image>> ImageDb::List() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  {
    CR_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT id FROM images ORDER BY pulled_at, id"));
    for (;;) {
      CR_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        break;
      }
      ids.push_back(st.ColumnText(0));
    }
  }
  std::vector<Image> out;
  for (const std::string& id : ids) {
    CR_ASSIGN_OR_RETURN(Image image, GetLocked(id));
    out.push_back(std::move(image));
  }
  return out;
}

Result<std::optional<std::string>> ImageDb::DeleteName(const std::string& name) {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement find,
                      db_->Prepare("SELECT image_id FROM image_names WHERE name = ?1"));
  find.Bind(1, name);
  CR_ASSIGN_OR_RETURN(bool row, find.Step());
  if (!row) {
    return std::optional<std::string>();
  }
  std::string id = find.ColumnText(0);
  CR_ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM image_names WHERE name = ?1"));
  del.Bind(1, name);
  CR_RETURN_IF_ERROR(del.Run());
  return std::optional<std::string>(id);
}

Result<std::optional<std::string>> ImageDb::DeleteTag(const std::string& tag) {
  std::lock_guard lock(mu_);
  CR_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Cleanup rollback([&] { (void)db_->Exec("ROLLBACK"); });
  std::string id;
  {
    CR_ASSIGN_OR_RETURN(Statement find,
                        db_->Prepare("SELECT image_id FROM image_names WHERE name = ?1"));
    find.Bind(1, tag);
    CR_ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) {
      return std::optional<std::string>();  // the rollback ends the empty transaction
    }
    id = find.ColumnText(0);
  }
  {
    CR_ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM image_names WHERE name = ?1"));
    del.Bind(1, tag);
    CR_RETURN_IF_ERROR(del.Run());
  }
  {
    // The names cascade with the image; repo digests alone do not keep it.
    CR_ASSIGN_OR_RETURN(Statement orphan,
                        db_->Prepare("DELETE FROM images WHERE id = ?1 AND NOT EXISTS (SELECT 1 "
                                     "FROM image_names WHERE image_id = ?1 AND is_digest = 0)"));
    orphan.Bind(1, id);
    CR_RETURN_IF_ERROR(orphan.Run());
  }
  CR_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  rollback.Dismiss();
  return std::optional<std::string>(id);
}

Result<void> ImageDb::DeleteImage(const std::string& id) {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement st, db_->Prepare("DELETE FROM images WHERE id = ?1"));
  st.Bind(1, id);
  return st.Run();
}

}  // namespace cricket::storage
