#pragma once

// A thin RAII layer over SQLite for the stores that persist Cricket's state. Not thread-safe:
// each owner guards its Database with its own mutex.

#include <sqlite3.h>

#include <cstdint>
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

// Maps a SQLite result code: constraint violations to kAlreadyExists/kFailedPrecondition,
// busy/locked to kUnavailable, corruption to kDataLoss, the rest to kInternal.
Error SqliteError(sqlite3* db, int rc, std::string_view action);

}  // namespace cricket
