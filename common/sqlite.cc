#include "common/sqlite.h"

#include <utility>

namespace cricket {

Error SqliteError(sqlite3* db, int rc, std::string_view action) {
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  Code code = Code::kInternal;
  switch (extended) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      code = Code::kAlreadyExists;
      break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      code = Code::kFailedPrecondition;
      break;
    default:
      switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
          code = Code::kUnavailable;
          break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
          code = Code::kDataLoss;
          break;
        case SQLITE_FULL:
          code = Code::kResourceExhausted;
          break;
        default:
          break;
      }
  }
  std::string message(action);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return {code, std::move(message)};
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return SqliteError(db_, rc, "sqlite step");
}

Result<void> Statement::Run() {
  for (;;) {
    CR_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      return Ok();
    }
  }
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return blob == nullptr ? std::string() : std::string(static_cast<const char*>(blob), size);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));  // owns raw even when open failed
  if (rc != SQLITE_OK) {
    return SqliteError(raw, rc, "open database " + path);
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  // WAL keeps readers off the writer's back; synchronous=FULL fsyncs the WAL on every commit,
  // so an acknowledged change survives a power cut.
  CR_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                              "PRAGMA foreign_keys=ON;"));
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Result<void> Database::Exec(std::string_view sql) {
  std::string copy(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    sqlite3_free(message);
    return SqliteError(db_, rc, "sqlite exec");
  }
  return Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(db_, rc, "sqlite prepare");
  }
  return Statement(db_, stmt);
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

}  // namespace cricket
