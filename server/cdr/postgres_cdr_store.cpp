#include "server/cdr/postgres_cdr_store.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "server/cdr/record_rows.hpp"

namespace warmline::server {

namespace {

// Schema version 2, the SQLite file's tables and columns (docs/cdr.md) in PostgreSQL's types.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS warmline_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
  id          text PRIMARY KEY,
  agent       text NOT NULL,
  from_party  text NOT NULL,
  to_party    text NOT NULL,
  started_at  timestamptz NOT NULL,
  answered_at timestamptz,
  ended_at    timestamptz NOT NULL,
  end_reason  text NOT NULL,
  recording   text
);
CREATE INDEX IF NOT EXISTS calls_started_at ON calls(started_at);
CREATE TABLE IF NOT EXISTS legs (
  call_id      text NOT NULL REFERENCES calls(id),
  role         text NOT NULL CHECK (role IN ('a', 'b')),
  direction    text NOT NULL CHECK (direction IN ('in', 'out')),
  remote_uri   text NOT NULL,
  trunk        text,
  sip_call_id  text NOT NULL,
  from_uri     text NOT NULL,
  to_uri       text NOT NULL,
  pai          text,
  codec        text,
  started_at   timestamptz NOT NULL,
  answered_at  timestamptz,
  ended_at     timestamptz,
  final_status integer,
  hangup_side  text CHECK (hangup_side IN ('local', 'remote'))
);
CREATE INDEX IF NOT EXISTS legs_call_id ON legs(call_id);
CREATE INDEX IF NOT EXISTS legs_sip_call_id ON legs(sip_call_id);
CREATE TABLE IF NOT EXISTS transfers (
  call_id       text NOT NULL REFERENCES calls(id),
  transfer_id   text NOT NULL,
  mode          text NOT NULL,
  targets_tried jsonb NOT NULL,
  strategy      text NOT NULL CHECK (strategy IN ('refer', 'dial')),
  attempts      jsonb NOT NULL,
  result        text,
  requested_at  timestamptz NOT NULL,
  answered_at   timestamptz,
  bridged_at    timestamptz,
  ended_at      timestamptz
);
CREATE INDEX IF NOT EXISTS transfers_call_id ON transfers(call_id);
)sql";

// Any 64-bit number, the same on every node: serialises schema creation between nodes.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7731200412)";

constexpr const char* kInsertCall =
    "INSERT INTO calls (id, agent, from_party, to_party, started_at, answered_at, ended_at, end_reason, recording) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING 1";
constexpr const char* kInsertLeg =
    "INSERT INTO legs (call_id, role, direction, remote_uri, trunk, sip_call_id, from_uri, to_uri, pai, codec, "
    "started_at, answered_at, ended_at, final_status, hangup_side) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
constexpr const char* kInsertTransfer =
    "INSERT INTO transfers (call_id, transfer_id, mode, targets_tried, strategy, attempts, result, requested_at, "
    "answered_at, bridged_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

// libpq's messages end in a newline.
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// A failure that is the database's or the network's, not the record's: the batch is retried. Class 08
// connection exceptions, 53 insufficient resources (disk full, out of memory, too many connections),
// 57 operator intervention (shutdown, cancel), 40 transaction rollback (serialization, deadlock), 58
// system errors.
bool store_failure(const PGresult* r) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (!state) return true;
  return std::strncmp(state, "08", 2) == 0 || std::strncmp(state, "53", 2) == 0 ||
         std::strncmp(state, "57", 2) == 0 || std::strncmp(state, "40", 2) == 0 || std::strncmp(state, "58", 2) == 0;
}

// Text parameters of one statement, with NULL where a column allows it; owns the strings it formats.
class Params {
 public:
  Params& text(std::string_view v) {
    owned_.emplace_back(v);
    return push_owned();
  }
  Params& text_or_null(std::string_view v) { return v.empty() ? null() : text(v); }
  Params& time(RecordTime t) { return text(format_record_time(t)); }
  Params& time(const std::optional<RecordTime>& t) { return t ? time(*t) : null(); }
  Params& status(int v) { return v == 0 ? null() : text(std::to_string(v)); }
  Params& null() {
    index_.push_back(-1);
    return *this;
  }
  std::vector<const char*> values() const {
    std::vector<const char*> out;
    for (int i : index_) out.push_back(i < 0 ? nullptr : owned_[static_cast<size_t>(i)].c_str());
    return out;
  }

 private:
  Params& push_owned() {
    index_.push_back(static_cast<int>(owned_.size() - 1));
    return *this;
  }
  std::vector<std::string> owned_;
  std::vector<int> index_;
};

}  // namespace

bool is_postgres_url(std::string_view cdr) { return cdr.starts_with("postgresql://") || cdr.starts_with("postgres://"); }

std::string redact_database_url(const std::string& url) {
  std::string out = url;
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t end = out.find_first_of("/?", start);
    const size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at > start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t value = p + 9;
    const size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

std::unique_ptr<PostgresCdrStore> PostgresCdrStore::open(const std::string& url, std::string& error, bool connect_now) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (!options) {
    error = trimmed(parse_error ? parse_error : "not a PostgreSQL connection URL");
    PQfreemem(parse_error);
    return nullptr;
  }
  PQconninfoFree(options);
  std::unique_ptr<PostgresCdrStore> store(new PostgresCdrStore(url));
  if (connect_now) {
    if (store->connect()) {
      spdlog::info("call records: connected to {}", redact_database_url(url));
    } else if (store->conn_ && PQstatus(store->conn_) == CONNECTION_OK) {
      // Connected, but the database is not one warmline can use: like a bad SQLite file, stop the start.
      error = store->last_error_;
      return nullptr;
    } else {
      spdlog::error("call records: cannot reach {} ({}); calls are taken and their records held until it answers",
                    redact_database_url(url), store->last_error_);
      store->failing_ = true;
    }
  }
  return store;
}

PostgresCdrStore::~PostgresCdrStore() {
  if (conn_) PQfinish(conn_);
}

bool PostgresCdrStore::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool PostgresCdrStore::connect() {
  if (conn_) PQfinish(conn_);
  // Our defaults come before the URL, so the URL's own settings win (libpq: later keywords override).
  const std::array<const char*, 5> keys{"connect_timeout", "tcp_user_timeout", "application_name", "dbname", nullptr};
  const std::array<const char*, 5> values{"5", "10000", "warmline", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    last_error_ = trimmed(conn_ ? PQerrorMessage(conn_) : "out of memory");
    return false;
  }
  if (!ensure_schema()) return false;
  for (auto [name, sql, n] : {std::tuple{"insert_call", kInsertCall, 9}, std::tuple{"insert_leg", kInsertLeg, 15},
                              std::tuple{"insert_transfer", kInsertTransfer, 11}}) {
    Result r(PQprepare(conn_, name, sql, n, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      last_error_ = fmt::format("cannot prepare {}: {}", name, PQresultErrorMessage(r.get()));
      return false;
    }
  }
  return true;
}

bool PostgresCdrStore::exec(const char* sql) {
  Result r(PQexec(conn_, sql));
  const auto status = PQresultStatus(r.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return true;
  last_error_ = trimmed(PQresultErrorMessage(r.get()));
  return false;
}

bool PostgresCdrStore::ensure_schema() {
  if (!exec("BEGIN") || !exec(kSchemaLock)) return false;
  auto fail = [this](std::string why) {
    exec("ROLLBACK");
    last_error_ = std::move(why);
    return false;
  };
  Result r(PQexec(conn_, "SELECT to_regclass('warmline_schema') IS NOT NULL, to_regclass('calls') IS NOT NULL"));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return fail(PQresultErrorMessage(r.get()));
  const bool has_version = PQgetvalue(r.get(), 0, 0)[0] == 't';
  const bool has_calls = PQgetvalue(r.get(), 0, 1)[0] == 't';
  if (!has_version && has_calls)
    return fail("the database has a calls table but no warmline_schema: not a warmline call record database");
  if (has_version) {
    Result v(PQexec(conn_, "SELECT max(version) FROM warmline_schema"));
    if (PQresultStatus(v.get()) != PGRES_TUPLES_OK) return fail(PQresultErrorMessage(v.get()));
    const long version = std::strtol(PQgetvalue(v.get(), 0, 0), nullptr, 10);
    if (version > kSchemaVersion)
      return fail(fmt::format("written by a newer warmline (schema version {}; this build knows up to {})", version,
                              kSchemaVersion));
    // Version 1 (before recordings): the column is added, its rows have none (NULL).
    if (version < 2 && (!exec("ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording text") ||
                        !exec("INSERT INTO warmline_schema (version) VALUES (2)")))
      return fail(fmt::format("cannot add calls.recording: {}", last_error_));
    return exec("COMMIT");
  }
  if (!exec(kSchema)) return fail(fmt::format("cannot create the schema: {}", last_error_));
  if (!exec("INSERT INTO warmline_schema (version) VALUES (2)")) return fail(last_error_);
  return exec("COMMIT");
}

PostgresCdrStore::Outcome PostgresCdrStore::run(const char* statement, const std::vector<const char*>& params) {
  Result r(PQexecPrepared(conn_, statement, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0));
  const auto status = PQresultStatus(r.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
    return PQntuples(r.get()) > 0 ? Outcome::ok_row : Outcome::ok_no_row;
  last_error_ = trimmed(PQresultErrorMessage(r.get()));
  return PQstatus(conn_) != CONNECTION_OK || store_failure(r.get()) ? Outcome::connection_error : Outcome::record_error;
}

void PostgresCdrStore::report_failure(std::string_view what) {
  if (!failing_) spdlog::error("call records: {}: {} (retried; further failures are only counted)", what, last_error_);
  failing_ = true;
}

StoreResult PostgresCdrStore::write(const std::vector<CallRecord>& batch) {
  StoreResult result;
  if (batch.empty()) return result;
  const StoreResult retry{0, 0, true};
  if (!connected() && !connect()) {
    report_failure(fmt::format("cannot connect to {}", redact_database_url(url_)));
    return retry;
  }
  if (!exec("BEGIN")) {
    report_failure("cannot begin a transaction");
    return retry;
  }
  for (const CallRecord& r : batch) {
    // One savepoint per call: a record the database refuses leaves no partial rows and does not cost
    // the other calls of the batch.
    if (!exec("SAVEPOINT record")) {
      report_failure("cannot set a savepoint");
      return retry;
    }
    const Outcome outcome = write_record(r);
    if (outcome != Outcome::record_error && outcome != Outcome::connection_error) {
      ++result.written;
      if (!exec("RELEASE SAVEPOINT record")) {
        report_failure("cannot release a savepoint");
        return retry;
      }
      continue;
    }
    if (outcome == Outcome::connection_error) {
      report_failure(fmt::format("the connection failed while writing call {}", r.id));
      return retry;
    }
    spdlog::error("call records: call {} not written: {}", r.id, last_error_);
    ++result.rejected;
    if (!exec("ROLLBACK TO SAVEPOINT record")) {
      report_failure("cannot roll back a savepoint");
      return retry;
    }
  }
  if (!exec("COMMIT")) {
    report_failure(fmt::format("commit of {} record(s) failed", batch.size()));
    if (connected()) exec("ROLLBACK");
    return retry;
  }
  if (failing_) spdlog::info("call records: writing to {} again", redact_database_url(url_));
  failing_ = false;
  return result;
}

// How one call's rows went: ok_row (written), ok_no_row (an earlier try of this batch committed it),
// record_error (the database refuses it; last_error_ says why) or connection_error (the store failed).
PostgresCdrStore::Outcome PostgresCdrStore::write_record(const CallRecord& r) {
  Params call;
  const Outcome first = run("insert_call", call_row(call, r).values());
  if (first != Outcome::ok_row) return first;
  for (const LegRecord& leg : r.legs) {
    Params row;
    if (auto out = run("insert_leg", leg_row(row, r, leg).values()); out != Outcome::ok_no_row) return out;
  }
  for (const TransferRecord& t : r.transfers) {
    Params row;
    if (auto out = run("insert_transfer", transfer_row(row, r, t).values()); out != Outcome::ok_no_row) return out;
  }
  return Outcome::ok_row;
}

}  // namespace warmline::server
