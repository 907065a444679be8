#include "server/cdr/sqlite_cdr_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <cstdlib>

#include "server/cdr/record_rows.hpp"

namespace warmline::server {

namespace {

// Schema version 2 (docs/cdr.md; version 1 had no calls.recording: kMigrateTo2). `from`/`to` are SQL keywords, hence from_party/to_party. Foreign keys
// are declared for readers and tools; SQLite does not enforce them unless a connection asks it to.
constexpr const char* kSchema = R"sql(
CREATE TABLE calls (
  id          TEXT PRIMARY KEY,
  agent       TEXT NOT NULL,
  from_party  TEXT NOT NULL,
  to_party    TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  answered_at TEXT,
  ended_at    TEXT NOT NULL,
  end_reason  TEXT NOT NULL,
  recording   TEXT
);
CREATE INDEX calls_started_at ON calls(started_at);
CREATE TABLE legs (
  call_id      TEXT NOT NULL REFERENCES calls(id),
  role         TEXT NOT NULL CHECK (role IN ('a', 'b')),
  direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  remote_uri   TEXT NOT NULL,
  trunk        TEXT,
  sip_call_id  TEXT NOT NULL,
  from_uri     TEXT NOT NULL,
  to_uri       TEXT NOT NULL,
  pai          TEXT,
  codec        TEXT,
  started_at   TEXT NOT NULL,
  answered_at  TEXT,
  ended_at     TEXT,
  final_status INTEGER,
  hangup_side  TEXT CHECK (hangup_side IN ('local', 'remote'))
);
CREATE INDEX legs_call_id ON legs(call_id);
CREATE INDEX legs_sip_call_id ON legs(sip_call_id);
CREATE TABLE transfers (
  call_id       TEXT NOT NULL REFERENCES calls(id),
  transfer_id   TEXT NOT NULL,
  mode          TEXT NOT NULL,
  targets_tried TEXT NOT NULL,
  strategy      TEXT NOT NULL CHECK (strategy IN ('refer', 'dial')),
  attempts      TEXT NOT NULL,
  result        TEXT,
  requested_at  TEXT NOT NULL,
  answered_at   TEXT,
  bridged_at    TEXT,
  ended_at      TEXT
);
CREATE INDEX transfers_call_id ON transfers(call_id);
PRAGMA user_version = 2;
)sql";

// A version 1 file (before recordings) gets the column; its rows have none (NULL).
constexpr const char* kMigrateTo2 = "ALTER TABLE calls ADD COLUMN recording TEXT; PRAGMA user_version = 2;";

// Binds the parameters of one statement in order; "" / 0 / nullopt become NULL where a column allows it.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* s) : s_(s) {}
  Binder& text(std::string_view v) {
    sqlite3_bind_text(s_, i_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& text_or_null(std::string_view v) { return v.empty() ? null() : text(v); }
  Binder& time(RecordTime t) { return text(format_record_time(t)); }
  Binder& time(const std::optional<RecordTime>& t) { return t ? time(*t) : null(); }
  Binder& status(int v) {
    if (v == 0) return null();
    sqlite3_bind_int(s_, i_++, v);
    return *this;
  }
  Binder& null() {
    sqlite3_bind_null(s_, i_++);
    return *this;
  }

 private:
  sqlite3_stmt* s_;
  int i_ = 1;
};

// One row of a one-column query as text ("" when there is none), for the PRAGMAs read at open. On
// failure `out` holds SQLite's message instead.
bool query_text(sqlite3* db, const char* sql, std::string& out) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    out = sqlite3_errmsg(db);
    return false;
  }
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const unsigned char* v = sqlite3_column_text(s, 0);
    out = v ? reinterpret_cast<const char*>(v) : "";
  } else {
    out = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

}  // namespace

void SqliteCdrStore::StatementDeleter::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

std::unique_ptr<SqliteCdrStore> SqliteCdrStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    error = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<SqliteCdrStore> store(new SqliteCdrStore(db));
  auto fail = [&](std::string why) {
    error = std::move(why);
    return nullptr;
  };
  // Another process (an operator's sqlite3 shell, a backup) may hold the lock for a moment.
  sqlite3_busy_timeout(db, 5000);
  std::string text;
  // The first read of the file: a file that is not a database fails here ("file is not a database").
  if (!query_text(db, "PRAGMA user_version", text)) return fail(text);
  const long version = std::strtol(text.c_str(), nullptr, 10);
  if (version > kSchemaVersion)
    return fail(fmt::format("written by a newer warmline (schema version {}; this build knows up to {}); "
                            "use a newer warmline or another file",
                            version, kSchemaVersion));
  if (!query_text(db, "PRAGMA journal_mode = WAL", text)) return fail(text);
  if (text != "wal") return fail(fmt::format("cannot use WAL journaling here (journal mode stays '{}')", text));
  if (sqlite3_exec(db, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail(sqlite3_errmsg(db));
  // A negative cache_size is a limit in KiB rather than in pages.
  const std::string cache = fmt::format("PRAGMA cache_size = -{}", kPageCacheKiB);
  if (sqlite3_exec(db, cache.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return fail(sqlite3_errmsg(db));
  if (version < kSchemaVersion) {
    if (!query_text(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", text)) return fail(text);
    if (version == 0 && text != "0")
      return fail("the file holds tables but no warmline schema version: not a warmline call record database");
    char* msg = nullptr;
    std::string sql = std::string("BEGIN IMMEDIATE;") + (version == 0 ? kSchema : kMigrateTo2) + "COMMIT;";
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string why = fmt::format("cannot create the schema: {}", msg ? msg : sqlite3_errmsg(db));
      sqlite3_free(msg);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return fail(why);
    }
  }
  if (!store->prepare_statements(error)) return nullptr;
  return store;
}

long SqliteCdrStore::page_cache_kib() const {
  std::string text;
  if (!query_text(db_, "PRAGMA cache_size", text)) return 0;
  const long size = std::strtol(text.c_str(), nullptr, 10);
  if (size <= 0) return -size;  // negative: KiB
  // Positive: pages.
  if (!query_text(db_, "PRAGMA page_size", text)) return 0;
  return size * std::strtol(text.c_str(), nullptr, 10) / 1024;
}

SqliteCdrStore::~SqliteCdrStore() {
  // Statements first: sqlite3_close refuses a connection that still has some.
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  savepoint_.reset();
  release_.reset();
  rollback_to_.reset();
  insert_call_.reset();
  insert_leg_.reset();
  insert_transfer_.reset();
  sqlite3_close(db_);
}

bool SqliteCdrStore::prepare_statements(std::string& error) {
  auto prepare = [&](Statement& out, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      error = fmt::format("cannot prepare '{}': {}", sql, sqlite3_errmsg(db_));
      return false;
    }
    out.reset(s);
    return true;
  };
  // IMMEDIATE takes the write lock at BEGIN, so a busy file is waited for (busy_timeout) there, not
  // half-way through a batch.
  return prepare(begin_, "BEGIN IMMEDIATE") && prepare(commit_, "COMMIT") && prepare(rollback_, "ROLLBACK") &&
         prepare(savepoint_, "SAVEPOINT record") && prepare(release_, "RELEASE record") &&
         prepare(rollback_to_, "ROLLBACK TO record") &&
         prepare(insert_call_,
                 "INSERT INTO calls (id, agent, from_party, to_party, started_at, answered_at, ended_at, end_reason, "
                 "recording) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)") &&
         prepare(insert_leg_,
                 "INSERT INTO legs (call_id, role, direction, remote_uri, trunk, sip_call_id, from_uri, to_uri, pai, "
                 "codec, started_at, answered_at, ended_at, final_status, hangup_side) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") &&
         prepare(insert_transfer_,
                 "INSERT INTO transfers (call_id, transfer_id, mode, targets_tried, strategy, attempts, result, "
                 "requested_at, answered_at, bridged_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
}

bool SqliteCdrStore::run(const Statement& statement) {
  const int rc = sqlite3_step(statement.get());
  if (rc != SQLITE_DONE) last_error_ = sqlite3_errmsg(db_);  // before reset() can replace it
  sqlite3_reset(statement.get());
  sqlite3_clear_bindings(statement.get());
  return rc == SQLITE_DONE;
}

void SqliteCdrStore::report_failure(std::string_view what) {
  if (!failing_) spdlog::error("call records: {}: {} (further failures are only counted)", what, last_error_);
  failing_ = true;
}

StoreResult SqliteCdrStore::write(const std::vector<CallRecord>& batch) {
  StoreResult result;
  if (batch.empty()) return result;
  // BEGIN or COMMIT failing is the file's trouble (disk full, I/O error, locked past busy_timeout), not
  // the records': the writer keeps the batch and tries it again later.
  if (!run(begin_)) {
    report_failure(fmt::format("cannot begin a transaction for {} record(s)", batch.size()));
    result.retry = true;
    return result;
  }
  for (const CallRecord& r : batch) {
    // One savepoint per call: a call whose rows cannot be written (say, a duplicate id) leaves no
    // partial rows and does not cost the other calls of the batch.
    run(savepoint_);
    if (write_record(r)) {
      ++result.written;
    } else {
      spdlog::error("call records: call {} not written: {}", r.id, last_error_);
      ++result.rejected;
      run(rollback_to_);
    }
    run(release_);
  }
  if (!run(commit_)) {
    report_failure(fmt::format("commit of {} record(s) failed", batch.size()));
    run(rollback_);
    return StoreResult{0, 0, true};
  }
  if (failing_) spdlog::info("call records: writing again");
  failing_ = false;
  return result;
}

bool SqliteCdrStore::write_record(const CallRecord& r) {
  Binder call(insert_call_.get());
  call_row(call, r);
  if (!run(insert_call_)) return false;
  for (const LegRecord& leg : r.legs) {
    Binder row(insert_leg_.get());
    leg_row(row, r, leg);
    if (!run(insert_leg_)) return false;
  }
  for (const TransferRecord& t : r.transfers) {
    Binder row(insert_transfer_.get());
    transfer_row(row, r, t);
    if (!run(insert_transfer_)) return false;
  }
  return true;
}

}  // namespace warmline::server
