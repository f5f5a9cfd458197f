#pragma once

// A thin RAII layer over SQLite for the stores that persist Cricket's state. Not thread-safe:
// each owner guards its Database with its own mutex.

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);

  // One step: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done (INSERT/UPDATE/DELETE).
  Result<void> Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if needed) with WAL journaling, synchronous=FULL (every commit reaches the
  // disk before it returns), foreign keys on and a busy timeout.
  static Result<std::unique_ptr<Database>> Open(const std::string& path);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Result<void> Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Number of rows changed by the last statement.
  int64_t Changes() const;

  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// What OpenOrSetAside found: the open database and, when the file at the path was unusable, where
// it was moved and why.
struct CheckedDatabase {
  std::unique_ptr<Database> db;
  std::string set_aside_path;  // "" when the file was healthy (or new)
  std::string problem;         // what was wrong with it, for the caller's rebuild log
};

// Opens `path` for a store that must not stop cricketd when its file is damaged. The file is
// unusable when it is not a SQLite database, is empty although it exists (a truncated file:
// every store writes its schema on creation), fails `PRAGMA quick_check`, or `check_schema`
// returns kDataLoss (a wrong or unknown schema; it runs on the open file and may migrate it).
// Then the file and its -wal/-shm are renamed to `<path>.corrupt-<unix seconds>`, one error line
// names both and the problem, and a fresh database is opened (and checked) in its place.
// Other failures (EACCES, ENOSPC, a newer schema as kFailedPrecondition) are returned as they are:
// they are not corruption, and moving the file would lose data.
Result<CheckedDatabase> OpenOrSetAside(const std::string& path,
                                       const std::function<Result<void>(Database&)>& check_schema);

// For a `check_schema`: a statement the schema should accept failed with kInternal (no such
// table or column: another program's file), which becomes kDataLoss "unknown schema in <path>";
// other codes (full disk, busy, corrupt) are returned as they are.
Error AsUnknownSchema(const Error& error, const std::string& path);

// Maps a SQLite result code: constraint violations to kAlreadyExists/kFailedPrecondition,
// busy/locked to kUnavailable, corruption to kDataLoss, a full disk (SQLITE_FULL, or an I/O
// error whose errno is ENOSPC/EDQUOT) to kResourceExhausted, the rest to kInternal.
Error SqliteError(sqlite3* db, int rc, std::string_view action);

}  // namespace cricket
