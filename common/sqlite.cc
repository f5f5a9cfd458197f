#include "common/sqlite.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <utility>

#include "common/log.h"

namespace cricket {
namespace {

// kDataLoss naming the first problem quick_check reports; OK for a sound file. quick_check
// (not integrity_check): it reads every page but skips the index-to-table cross-checks, which
// keeps a start-up with a large store in milliseconds.
Result<void> QuickCheck(Database& db) {
  CR_ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA quick_check"));
  CR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  std::string first = row ? stmt.ColumnText(0) : "no result";
  if (first != "ok") {
    return Error(Code::kDataLoss, "quick_check: " + first);
  }
  return Ok();
}

Result<std::unique_ptr<Database>> OpenAndCheck(
    const std::string& path, const std::function<Result<void>(Database&)>& check_schema) {
  CR_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  CR_RETURN_IF_ERROR(QuickCheck(*db));
  CR_RETURN_IF_ERROR(check_schema(*db));
  return db;
}

// Renames `from` to `to`; a missing `from` is fine (no -wal or -shm file).
Result<void> RenameIfPresent(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "rename " + from + " to " + to);
  }
  return Ok();
}

// Moves the database and its WAL files aside, keeping them for a post-mortem. The -wal and -shm
// go too: left behind, SQLite would try to apply them to the fresh file.
Result<std::string> SetAside(const std::string& path) {
  std::string aside = path + ".corrupt-" + std::to_string(std::time(nullptr));
  struct stat st {};
  for (int n = 1; ::lstat(aside.c_str(), &st) == 0; ++n) {  // two in one second: keep both
    aside = path + ".corrupt-" + std::to_string(std::time(nullptr)) + "." + std::to_string(n);
  }
  CR_RETURN_IF_ERROR(RenameIfPresent(path, aside));
  CR_RETURN_IF_ERROR(RenameIfPresent(path + "-wal", aside + "-wal"));
  CR_RETURN_IF_ERROR(RenameIfPresent(path + "-shm", aside + "-shm"));
  return aside;
}

}  // namespace

Result<CheckedDatabase> OpenOrSetAside(const std::string& path,
                                       const std::function<Result<void>(Database&)>& check_schema) {
  CheckedDatabase out;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
    out.problem = "the file is empty (truncated)";
  } else {
    auto opened = OpenAndCheck(path, check_schema);
    if (opened.ok()) {
      out.db = std::move(opened).value();
      return out;
    }
    if (opened.error().code() != Code::kDataLoss) {
      return std::move(opened).error();
    }
    out.problem = opened.error().message();
  }  // the damaged file is closed here, before it is renamed
  CR_ASSIGN_OR_RETURN(out.set_aside_path, SetAside(path));
  log::Error({}, "database {} is unusable ({}); moved it to {} and starting from an empty one",
             path, out.problem, out.set_aside_path);
  CR_ASSIGN_OR_RETURN(out.db, OpenAndCheck(path, check_schema));
  return out;
}

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
        case SQLITE_IOERR: {
          // A full disk met in fsync or a WAL write surfaces as an I/O error: the errno says
          // which, and a caller (kubelet) must see "out of space", not an internal error.
          int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
          if (sys_errno == ENOSPC || sys_errno == EDQUOT) {
            code = Code::kResourceExhausted;
          }
          break;
        }
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
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));  // owns raw even when open failed
  if (rc != SQLITE_OK) {
    return SqliteError(raw, rc, "open database " + path);
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  // WAL keeps readers off the writer's back; synchronous=FULL fsyncs the WAL on every commit,
  // so an acknowledged change survives a power cut.
  CR_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
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

Error AsUnknownSchema(const Error& error, const std::string& path) {
  if (error.code() != Code::kInternal) {
    return error;
  }
  return Error(Code::kDataLoss, "unknown schema in " + path + ": " + error.message());
}

}  // namespace cricket
