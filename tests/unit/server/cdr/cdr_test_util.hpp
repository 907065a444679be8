// Shared by the CDR store and writer tests: a temporary folder per test, a plain SQLite connection
// to read back what was written (the way an operator's tools see the file), and sample records.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "server/cdr/call_record.hpp"

namespace warmline::server::cdr_test {

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "warmline-cdr-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

using Row = std::vector<std::optional<std::string>>;  // nullopt = NULL

// A connection of its own to the file, as an outside reader.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  std::vector<Row> rows(const std::string& sql) const {
    std::vector<Row> out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* v = sqlite3_column_text(s, i);
        row.push_back(v ? std::optional<std::string>(reinterpret_cast<const char*>(v)) : std::nullopt);
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return out;
  }
  // The single value of a one-row, one-column query ("" when there is no row or it is NULL).
  std::string value(const std::string& sql) const {
    auto r = rows(sql);
    return r.empty() || r[0].empty() || !r[0][0] ? std::string() : *r[0][0];
  }
  void exec(const std::string& sql) const {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) ADD_FAILURE() << sql << ": " << msg;
    sqlite3_free(msg);
  }

 private:
  sqlite3* db_ = nullptr;
};

// 2026-12-05T07:23:03.000Z plus `ms` milliseconds.
inline RecordTime at(int64_t ms) {
  using namespace std::chrono;
  return RecordTime(seconds(1796455383)) + milliseconds(ms);
}

// A call with its caller's leg and, when `with_transfer`, a completed cold transfer after a busy one.
inline CallRecord sample_record(std::string id, bool with_transfer = false) {
  CallRecord r;
  r.id = std::move(id);
  r.agent = "demo";
  r.from = "+27115550123";
  r.to = "+27115550100";
  r.started_at = at(0);
  r.answered_at = at(1500);
  r.ended_at = at(61'250);
  r.end_reason = with_transfer ? "transferred" : "caller_hangup";
  LegRecord a;
  a.role = LegRole::kA;
  a.direction = LegDirection::kIn;
  a.remote_uri = "sip:+27115550123@203.0.113.5:5060";
  a.trunk = "carrier";
  a.sip_call_id = "sip-" + r.id + "@carrier.example";
  a.from_uri = "sip:+27115550123@carrier.example";
  a.to_uri = "sip:+27115550100@192.0.2.10";
  a.codec = "PCMU";
  a.started_at = at(0);
  a.answered_at = at(1500);
  a.ended_at = at(61'250);
  a.final_status = 200;
  a.hangup_side = HangupSide::kRemote;
  r.legs.push_back(a);
  if (with_transfer) {
    TransferRecord t;
    t.id = "t1";
    t.targets_tried = {"Support", "Sales \"B\""};
    t.attempts = {{"sip:support@pbx.example.com", 486, ai::TransferResult::kBusy},
                  {"sip:sales@pbx.example.com", 200, ai::TransferResult::kCompleted, TransferStrategy::kDial}};
    t.result = ai::TransferResult::kCompleted;
    t.requested_at = at(30'000);
    t.answered_at = at(41'000);
    t.bridged_at = at(41'000);
    t.ended_at = at(41'000);
    r.transfers.push_back(t);
  }
  return r;
}

}  // namespace warmline::server::cdr_test
