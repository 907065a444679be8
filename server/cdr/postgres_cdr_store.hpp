// Call records in PostgreSQL (docs/cdr.md): the same tables and columns as the SQLite file, with
// PostgreSQL's types (timestamptz for times, jsonb for the transfer lists), so that several nodes can
// write into the database their cluster already has.
//
// Connection: libpq, opened from a `postgresql://` URL (any libpq connection URI). A database that is
// down at start does not stop warmline: the first write connects, and until then — and whenever the
// connection is lost later — write() answers "retry" and the CDR writer holds the records and tries
// again with backoff (cdr_writer.hpp). Retries are idempotent: a call whose row is already there (a
// batch whose COMMIT went through but whose answer was lost) is counted as written, not duplicated.
//
// Schema: created on first connect when missing (CREATE ... IF NOT EXISTS under an advisory lock, so two
// nodes starting together do not race), with its version in warmline_schema; a database holding a
// newer version is refused.
//
// Thread: created on the starting thread, then used only by the CDR writer's thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/cdr/cdr_store.hpp"

struct pg_conn;

namespace warmline::server {

class PostgresCdrStore final : public CdrStore {
 public:
  static constexpr int kSchemaVersion = 2;  // 2: calls.recording

  // Never fails for a database that is down (see above); nullptr and `error` only for a URL libpq cannot
  // parse. `connect_now`: try to connect (and create the schema) before returning, logging the outcome.
  static std::unique_ptr<PostgresCdrStore> open(const std::string& url, std::string& error, bool connect_now = true);
  ~PostgresCdrStore() override;
  PostgresCdrStore(const PostgresCdrStore&) = delete;
  PostgresCdrStore& operator=(const PostgresCdrStore&) = delete;

  StoreResult write(const std::vector<CallRecord>& batch) override;
  bool connected() const;

 private:
  explicit PostgresCdrStore(std::string url) : url_(std::move(url)) {}
  bool connect();  // (re)connects and prepares; false with last_error_ set
  bool ensure_schema();
  bool exec(const char* sql);
  // Runs a prepared statement; "ok" also tells whether a row came back (the call's insert).
  enum class Outcome { ok_row, ok_no_row, record_error, connection_error };
  Outcome run(const char* statement, const std::vector<const char*>& params);
  Outcome write_record(const CallRecord& r);
  void report_failure(std::string_view what);

  std::string url_;
  pg_conn* conn_ = nullptr;
  std::string last_error_;
  bool failing_ = false;
};

// The URL with its password replaced by "***", for logs ("postgresql://cdr:***@db.example/warmline").
std::string redact_database_url(const std::string& url);
bool is_postgres_url(std::string_view cdr);

}  // namespace warmline::server
