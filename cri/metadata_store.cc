#include "cri/metadata_store.h"

#include <array>

#include <fmt/format.h>

#include "common/files.h"

namespace cricket::cri {
namespace {

// Migration N takes a store from version N to N+1. Append only; never edit a shipped step.
constexpr std::array<std::string_view, MetadataStore::kSchemaVersion> kMigrations = {
    // 0 -> 1: sandboxes and containers.
    R"sql(
      CREATE TABLE sandboxes (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        state         INTEGER NOT NULL,
        created_at_ns INTEGER NOT NULL,
        config        BLOB NOT NULL,
        runtime       TEXT NOT NULL
      );
      CREATE TABLE containers (
        id             TEXT PRIMARY KEY,
        sandbox_id     TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE RESTRICT,
        name           TEXT NOT NULL UNIQUE,
        state          INTEGER NOT NULL,
        created_at_ns  INTEGER NOT NULL,
        started_at_ns  INTEGER NOT NULL,
        finished_at_ns INTEGER NOT NULL,
        exit_code      INTEGER NOT NULL,
        reason         TEXT NOT NULL,
        message        TEXT NOT NULL,
        config         BLOB NOT NULL,
        runtime        TEXT NOT NULL
      );
      CREATE INDEX containers_by_sandbox ON containers(sandbox_id);
    )sql",
};

constexpr std::string_view kSandboxColumns = "id, name, state, created_at_ns, config, runtime";
constexpr std::string_view kContainerColumns =
    "id, sandbox_id, name, state, created_at_ns, started_at_ns, finished_at_ns, exit_code, "
    "reason, message, config, runtime";

SandboxRecord ReadSandbox(const Statement& row) {
  SandboxRecord r;
  r.id = row.ColumnText(0);
  r.name = row.ColumnText(1);
  r.state = static_cast<SandboxState>(row.ColumnInt(2));
  r.created_at_ns = row.ColumnInt(3);
  r.config = row.ColumnBlob(4);
  r.runtime = row.ColumnText(5);
  return r;
}

ContainerRecord ReadContainer(const Statement& row) {
  ContainerRecord r;
  r.id = row.ColumnText(0);
  r.sandbox_id = row.ColumnText(1);
  r.name = row.ColumnText(2);
  r.state = static_cast<ContainerState>(row.ColumnInt(3));
  r.created_at_ns = row.ColumnInt(4);
  r.started_at_ns = row.ColumnInt(5);
  r.finished_at_ns = row.ColumnInt(6);
  r.exit_code = static_cast<int32_t>(row.ColumnInt(7));
  r.reason = row.ColumnText(8);
  r.message = row.ColumnText(9);
  r.config = row.ColumnBlob(10);
  r.runtime = row.ColumnText(11);
  return r;
}

template <typename Record, typename Reader>
Result<std::vector<Record>> ReadAll(Database& db, std::string_view sql, Reader read) {
  CR_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  std::vector<Record> out;
  for (;;) {
    CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(read(stmt));
  }
}

// A schema step that fails on a file whose user_version promises otherwise (a table of that
// name with other columns, a missing table) means the file is not ours as we know it.
Result<void> Migrate(Database& db) {
  CR_ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA user_version"));
  CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  int version = row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
  if (version > MetadataStore::kSchemaVersion) {
    return Error(Code::kFailedPrecondition,
                 fmt::format("metadata store {} has schema version {}, newer than this cricketd "
                             "understands ({})",
                             db.path(), version, MetadataStore::kSchemaVersion));
  }
  if (version < 0) {
    return Error(Code::kDataLoss,
                 fmt::format("unknown schema in {}: version {}", db.path(), version));
  }
  for (; version < MetadataStore::kSchemaVersion; ++version) {
    // Each step and its version bump commit together: a crash mid-migration redoes the step.
    std::string sql = fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version = {}; COMMIT;",
                                  kMigrations[static_cast<size_t>(version)], version + 1);
    auto applied = db.Exec(sql);
    if (!applied.ok()) {
      (void)db.Exec("ROLLBACK");
      return AsUnknownSchema(applied.error(), db.path())
          .Wrap(fmt::format("migrate metadata store to version {}", version + 1));
    }
  }
  return Ok();
}

// Every column this build reads must be there: a file claiming the current version with other
// tables would otherwise fail on every RPC instead of once here.
Result<void> VerifySchema(Database& db) {
  for (const std::string& sql :
       {fmt::format("SELECT {} FROM sandboxes LIMIT 0", kSandboxColumns),
        fmt::format("SELECT {} FROM containers LIMIT 0", kContainerColumns)}) {
    auto stmt = db.Prepare(sql);
    if (!stmt.ok()) {
      return AsUnknownSchema(stmt.error(), db.path());
    }
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& dir) {
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  CR_ASSIGN_OR_RETURN(CheckedDatabase checked,
                      OpenOrSetAside(dir + "/metadata.db", [](Database& db) -> Result<void> {
                        CR_RETURN_IF_ERROR(Migrate(db));
                        return VerifySchema(db);
                      }));
  std::unique_ptr<MetadataStore> store(new MetadataStore(std::move(checked.db)));
  store->set_aside_path_ = std::move(checked.set_aside_path);
  store->set_aside_problem_ = std::move(checked.problem);
  return store;
}

Result<int> MetadataStore::SchemaVersion() {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("PRAGMA user_version"));
  CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
}

Result<void> MetadataStore::Check() {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("SELECT count(*) FROM sandboxes"));
  return stmt.Run();
}

Result<void> MetadataStore::Update(const std::function<Result<void>(Tx&)>& fn) {
  std::lock_guard lock(mu_);
  CR_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Tx tx(*db_);
  auto result = fn(tx);
  if (result.ok()) {
    result = db_->Exec("COMMIT");
  }
  if (!result.ok()) {
    (void)db_->Exec("ROLLBACK");  // the original error is the one worth reporting
  }
  return result;
}

Result<void> MetadataStore::Tx::PutSandbox(const SandboxRecord& r) {
  CR_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(fmt::format("INSERT INTO sandboxes ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                              "ON CONFLICT(id) DO UPDATE SET name = ?2, state = ?3, "
                              "created_at_ns = ?4, config = ?5, runtime = ?6",
                              kSandboxColumns)));
  // An upsert, not INSERT OR REPLACE: a replace deletes the row first, which the containers'
  // foreign key refuses. A name held by another sandbox is checked here for a clear error.
  CR_ASSIGN_OR_RETURN(Statement clash,
                      db_.Prepare("SELECT id FROM sandboxes WHERE name = ?1 AND id != ?2"));
  clash.Bind(1, r.name).Bind(2, r.id);
  CR_ASSIGN_OR_RETURN(bool taken, clash.Step());
  if (taken) {
    return Error(Code::kAlreadyExists, fmt::format("sandbox name {} is reserved by sandbox {}",
                                                   r.name, clash.ColumnText(0)));
  }
  stmt.Bind(1, r.id)
      .Bind(2, r.name)
      .Bind(3, static_cast<int64_t>(r.state))
      .Bind(4, r.created_at_ns);
  stmt.BindBlob(5, r.config).Bind(6, r.runtime);
  return stmt.Run();
}

Result<void> MetadataStore::Tx::DeleteSandbox(const std::string& id) {
  // Checked here rather than left to the foreign key, whose error names no object.
  CR_ASSIGN_OR_RETURN(Statement children,
                      db_.Prepare("SELECT count(*) FROM containers WHERE sandbox_id = ?1"));
  children.Bind(1, id);
  CR_ASSIGN_OR_RETURN(bool row, children.Step());
  if (row && children.ColumnInt(0) > 0) {
    return Error(Code::kFailedPrecondition, fmt::format("sandbox {} still has containers", id));
  }
  CR_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("DELETE FROM sandboxes WHERE id = ?1"));
  stmt.Bind(1, id);
  return stmt.Run();
}

Result<void> MetadataStore::Tx::PutContainer(const ContainerRecord& r) {
  CR_ASSIGN_OR_RETURN(Statement clash,
                      db_.Prepare("SELECT id FROM containers WHERE name = ?1 AND id != ?2"));
  clash.Bind(1, r.name).Bind(2, r.id);
  CR_ASSIGN_OR_RETURN(bool taken, clash.Step());
  if (taken) {
    return Error(Code::kAlreadyExists, fmt::format("container name {} is reserved by container {}",
                                                   r.name, clash.ColumnText(0)));
  }
  CR_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(fmt::format(
          "INSERT INTO containers ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
          "ON CONFLICT(id) DO UPDATE SET sandbox_id = ?2, name = ?3, state = ?4, "
          "created_at_ns = ?5, started_at_ns = ?6, finished_at_ns = ?7, exit_code = ?8, "
          "reason = ?9, message = ?10, config = ?11, runtime = ?12",
          kContainerColumns)));
  stmt.Bind(1, r.id).Bind(2, r.sandbox_id).Bind(3, r.name).Bind(4, static_cast<int64_t>(r.state));
  stmt.Bind(5, r.created_at_ns).Bind(6, r.started_at_ns).Bind(7, r.finished_at_ns);
  stmt.Bind(8, static_cast<int64_t>(r.exit_code)).Bind(9, r.reason).Bind(10, r.message);
  stmt.BindBlob(11, r.config).Bind(12, r.runtime);
  auto put = stmt.Run();
  if (!put.ok() && put.error().code() == Code::kFailedPrecondition) {
    return Error(Code::kFailedPrecondition,
                 fmt::format("container {}: sandbox {} does not exist", r.id, r.sandbox_id));
  }
  return put;
}

Result<void> MetadataStore::Tx::DeleteContainer(const std::string& id) {
  CR_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("DELETE FROM containers WHERE id = ?1"));
  stmt.Bind(1, id);
  return stmt.Run();
}

Result<void> MetadataStore::PutSandbox(const SandboxRecord& record) {
  return Update([&](Tx& tx) { return tx.PutSandbox(record); });
}
Result<void> MetadataStore::DeleteSandbox(const std::string& id) {
  return Update([&](Tx& tx) { return tx.DeleteSandbox(id); });
}
Result<void> MetadataStore::PutContainer(const ContainerRecord& record) {
  return Update([&](Tx& tx) { return tx.PutContainer(record); });
}
Result<void> MetadataStore::DeleteContainer(const std::string& id) {
  return Update([&](Tx& tx) { return tx.DeleteContainer(id); });
}

Result<SandboxRecord> MetadataStore::GetSandbox(const std::string& id) {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare(fmt::format("SELECT {} FROM sandboxes WHERE id = ?1", kSandboxColumns)));
  stmt.Bind(1, id);
  CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Error(Code::kNotFound, fmt::format("sandbox {} not found", id));
  }
  return ReadSandbox(stmt);
}

Result<ContainerRecord> MetadataStore::GetContainer(const std::string& id) {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare(fmt::format("SELECT {} FROM containers WHERE id = ?1", kContainerColumns)));
  stmt.Bind(1, id);
  CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Error(Code::kNotFound, fmt::format("container {} not found", id));
  }
  return ReadContainer(stmt);
}

Result<std::vector<SandboxRecord>> MetadataStore::ListSandboxes() {
  std::lock_guard lock(mu_);
  return ReadAll<SandboxRecord>(
      *db_, fmt::format("SELECT {} FROM sandboxes ORDER BY created_at_ns, id", kSandboxColumns),
      ReadSandbox);
}

Result<std::vector<ContainerRecord>> MetadataStore::ListContainers() {
  std::lock_guard lock(mu_);
  return ReadAll<ContainerRecord>(
      *db_, fmt::format("SELECT {} FROM containers ORDER BY created_at_ns, id", kContainerColumns),
      ReadContainer);
}

}  // namespace cricket::cri
