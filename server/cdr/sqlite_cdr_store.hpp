// Call records in a SQLite file (docs/cdr.md has the schema): WAL journal, synchronous = NORMAL,
// schema version in PRAGMA user_version, prepared statements, one transaction per batch.
//
// Durability: in WAL mode a transaction is committed once its frames are appended to the -wal file.
// With synchronous = NORMAL that append is a write() without fsync, so the commit is in the kernel's
// page cache: it survives the process being killed (kill -9, a crash) but not the machine losing power
// or the kernel crashing, where the last transactions before the last checkpoint may roll back. The
// database itself never corrupts either way. FULL would add an fsync per batch for that last case;
// DESIGN.md asks for "kill -9 loses no committed record", which NORMAL already gives.
//
// Thread: opened on the thread that starts the gateway (so a bad file stops the start with a clear
// error), then used only by the CDR writer's thread. The connection is never used by two threads at
// once, so it is opened without SQLite's own mutexes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/cdr/cdr_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace warmline::server {

class SqliteCdrStore final : public CdrStore {
 public:
  static constexpr int kSchemaVersion = 2;  // 2: calls.recording
  // The page cache of the connection, in KiB. Records are only appended, so a small cache costs
  // nothing, and the memory it takes stops growing soon after start (SQLite's default is 2 MiB).
  static constexpr long kPageCacheKiB = 256;

  // Opens `path`, creating the file and the schema when they are missing. nullptr and `error` set when
  // the file cannot be opened or created, is not a SQLite database, holds tables but no warmline
  // schema, was written by a newer warmline (a higher user_version), or cannot use WAL.
  static std::unique_ptr<SqliteCdrStore> open(const std::string& path, std::string& error);
  ~SqliteCdrStore() override;
  SqliteCdrStore(const SqliteCdrStore&) = delete;
  SqliteCdrStore& operator=(const SqliteCdrStore&) = delete;

  StoreResult write(const std::vector<CallRecord>& batch) override;
  // The page cache limit this connection runs with, in KiB, as SQLite reports it.
  long page_cache_kib() const;

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

  explicit SqliteCdrStore(sqlite3* db) : db_(db) {}
  bool prepare_statements(std::string& error);
  bool write_record(const CallRecord& record);
  bool run(const Statement& statement);
  void report_failure(std::string_view what);

  sqlite3* db_ = nullptr;
  Statement begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  Statement insert_call_, insert_leg_, insert_transfer_;
  std::string last_error_;  // SQLite's message for the last statement that failed
  bool failing_ = false;  // the last batch failed: the next failure is not logged again
};

}  // namespace warmline::server
