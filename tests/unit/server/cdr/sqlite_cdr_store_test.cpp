// The SQLite call record store on a real file in a temporary folder (docs/cdr.md): the schema and its
// version, WAL, every column as written, NULLs for what never happened, reopening, and the files it
// refuses to use.
#include "server/cdr/sqlite_cdr_store.hpp"

#include <gmock/gmock.h>

#include <cstdlib>
#include <fstream>

#include "cdr_test_util.hpp"

namespace warmline::server {
namespace {

using cdr_test::at;
using cdr_test::Db;
using cdr_test::Row;
using cdr_test::sample_record;
using cdr_test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<SqliteCdrStore> open_ok(const std::string& path) {
  std::string error;
  auto store = SqliteCdrStore::open(path, error);
  EXPECT_TRUE(store) << error;
  EXPECT_EQ(error, "");
  return store;
}

std::string open_error(const std::string& path) {
  std::string error;
  auto store = SqliteCdrStore::open(path, error);
  EXPECT_FALSE(store);
  return error;
}

TEST(RecordTimeTest, IsUtcIso8601WithMilliseconds) {
  EXPECT_EQ(format_record_time(at(0)), "2026-12-05T07:23:03.000Z");
  EXPECT_EQ(format_record_time(at(61'250)), "2026-12-05T07:24:04.250Z");
  EXPECT_EQ(format_record_time(RecordTime{}), "1970-01-01T00:00:00.000Z");
  // Below a millisecond is cut, not rounded: a time never moves to after the event.
  EXPECT_EQ(format_record_time(at(7) + std::chrono::microseconds(999)), "2026-12-05T07:23:03.007Z");
}

TEST(SqliteCdrStoreTest, CreatesTheFileWithTheSchemaVersionAndWal) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  ASSERT_TRUE(open_ok(path));
  Db db(path);
  EXPECT_EQ(db.value("PRAGMA user_version"), std::to_string(SqliteCdrStore::kSchemaVersion));
  EXPECT_EQ(db.value("PRAGMA journal_mode"), "wal") << "WAL is a property of the file";
  EXPECT_THAT(db.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
              ElementsAre(Row{"calls"}, Row{"legs"}, Row{"transfers"}));
}

TEST(SqliteCdrStoreTest, ThePageCacheIsBoundedBelowSqlitesDefault) {
  TempDir dir;
  std::string error;
  auto store = SqliteCdrStore::open(dir.file("cdr.sqlite"), error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->page_cache_kib(), SqliteCdrStore::kPageCacheKiB);
  Db other(dir.file("cdr.sqlite"));
  EXPECT_GT(std::abs(std::stol(other.value("PRAGMA cache_size"))), SqliteCdrStore::kPageCacheKiB)
      << "the limit is the store's connection's, SQLite's default elsewhere";
}

TEST(SqliteCdrStoreTest, WritesEveryColumnAndReadsBackAfterReopening) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({sample_record("c0-abc", true)}).written, 1u);
  }
  Db db(path);
  EXPECT_THAT(db.rows("SELECT id, agent, from_party, to_party, started_at, answered_at, ended_at, end_reason FROM calls"),
              ElementsAre(Row{"c0-abc", "demo", "+27115550123", "+27115550100", "2026-12-05T07:23:03.000Z",
                              "2026-12-05T07:23:04.500Z", "2026-12-05T07:24:04.250Z", "transferred"}));
  EXPECT_THAT(db.rows("SELECT call_id, role, direction, remote_uri, trunk, sip_call_id, from_uri, to_uri, pai, codec, "
                      "started_at, answered_at, ended_at, final_status, hangup_side FROM legs"),
              ElementsAre(Row{"c0-abc", "a", "in", "sip:+27115550123@203.0.113.5:5060", "carrier",
                              "sip-c0-abc@carrier.example", "sip:+27115550123@carrier.example",
                              "sip:+27115550100@192.0.2.10", std::nullopt, "PCMU", "2026-12-05T07:23:03.000Z",
                              "2026-12-05T07:23:04.500Z", "2026-12-05T07:24:04.250Z", "200", "remote"}));
  EXPECT_THAT(db.rows("SELECT call_id, transfer_id, mode, targets_tried, strategy, attempts, result, requested_at, "
                      "answered_at, bridged_at, ended_at FROM transfers"),
              ElementsAre(Row{"c0-abc", "t1", "cold", R"(["Support","Sales \"B\""])", "refer",
                              R"([{"target":"sip:support@pbx.example.com","sip_status":486,"result":"busy","strategy":"refer"},)"
                              R"({"target":"sip:sales@pbx.example.com","sip_status":200,"result":"completed","strategy":"dial"}])",
                              "completed", "2026-12-05T07:23:33.000Z", "2026-12-05T07:23:44.000Z",
                              "2026-12-05T07:23:44.000Z", "2026-12-05T07:23:44.000Z"}));
  // The JSON columns are JSON to SQLite too.
  EXPECT_EQ(db.value("SELECT json_extract(attempts, '$[0].sip_status') FROM transfers"), "486");
  // The times work with SQLite's date functions.
  EXPECT_EQ(db.value("SELECT CAST(round((julianday(ended_at) - julianday(started_at)) * 86400000) AS INTEGER) "
                     "FROM calls"),
                     "61250");
}

// docs/cdr.md calls.recording: the recording's path, NULL for a call not recorded.
TEST(SqliteCdrStoreTest, TheRecordingColumnNamesTheFileOrIsNull) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CallRecord recorded = sample_record("c0-rec");
  recorded.recording = "/var/lib/warmline/recordings/c0-rec.wav";
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({recorded, sample_record("c0-plain")}).written, 2u);
  }
  Db db(path);
  EXPECT_THAT(db.rows("SELECT id, recording FROM calls ORDER BY id"),
              ElementsAre(Row{"c0-plain", std::nullopt}, Row{"c0-rec", "/var/lib/warmline/recordings/c0-rec.wav"}));
}

// A file of schema version 1 (before recordings) keeps its rows and gets calls.recording.
TEST(SqliteCdrStoreTest, AVersion1FileGetsTheRecordingColumn) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    // Version 1's tables, as that release created them (docs/cdr.md before calls.recording).
    const char* v1 = R"sql(
CREATE TABLE calls (id TEXT PRIMARY KEY, agent TEXT NOT NULL, from_party TEXT NOT NULL, to_party TEXT NOT NULL,
  started_at TEXT NOT NULL, answered_at TEXT, ended_at TEXT NOT NULL, end_reason TEXT NOT NULL);
CREATE TABLE legs (call_id TEXT NOT NULL, role TEXT NOT NULL, direction TEXT NOT NULL, remote_uri TEXT NOT NULL,
  trunk TEXT, sip_call_id TEXT NOT NULL, from_uri TEXT NOT NULL, to_uri TEXT NOT NULL, pai TEXT, codec TEXT,
  started_at TEXT NOT NULL, answered_at TEXT, ended_at TEXT, final_status INTEGER, hangup_side TEXT);
CREATE TABLE transfers (call_id TEXT NOT NULL, transfer_id TEXT NOT NULL, mode TEXT NOT NULL,
  targets_tried TEXT NOT NULL, strategy TEXT NOT NULL, attempts TEXT NOT NULL, result TEXT,
  requested_at TEXT NOT NULL, answered_at TEXT, bridged_at TEXT, ended_at TEXT);
INSERT INTO calls VALUES ('c0-old', 'demo', '1', '2', '2026-01-01T00:00:00.000Z', NULL, '2026-01-01T00:01:00.000Z', 'caller_hangup');
PRAGMA user_version = 1;
)sql";
    ASSERT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  CallRecord recorded = sample_record("c0-new");
  recorded.recording = "rec/c0-new.wav";
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({recorded}).written, 1u);
  }
  Db db(path);
  EXPECT_EQ(db.value("PRAGMA user_version"), "2");
  EXPECT_THAT(db.rows("SELECT id, recording FROM calls ORDER BY id"),
              ElementsAre(Row{"c0-new", "rec/c0-new.wav"}, Row{"c0-old", std::nullopt}));
}

TEST(SqliteCdrStoreTest, WhatNeverHappenedIsNull) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  CallRecord r = sample_record("c1-cancelled");
  r.answered_at.reset();
  r.end_reason = "caller_cancelled";
  LegRecord& a = r.legs[0];
  a.trunk.clear();
  a.codec.clear();
  a.answered_at.reset();
  a.ended_at.reset();
  a.final_status = 0;
  a.hangup_side = HangupSide::kNone;
  TransferRecord t;
  t.id = "t9";
  t.requested_at = at(10);
  r.transfers.push_back(t);
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({r}).written, 1u);
  }
  Db db(path);
  EXPECT_EQ(db.rows("SELECT answered_at FROM calls"), std::vector<Row>{Row{std::nullopt}});
  EXPECT_THAT(db.rows("SELECT trunk, codec, answered_at, ended_at, final_status, hangup_side FROM legs"),
              ElementsAre(Row(6, std::nullopt)));
  EXPECT_THAT(db.rows("SELECT targets_tried, attempts, result, answered_at, bridged_at, ended_at FROM transfers"),
              ElementsAre(Row{"[]", "[]", std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
}

TEST(SqliteCdrStoreTest, ReopeningKeepsTheRowsAndAppends) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({sample_record("c0-a"), sample_record("c0-b")}).written, 2u);
  }
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->write({sample_record("c0-c")}).written, 1u);
  }
  Db db(path);
  EXPECT_THAT(db.rows("SELECT id FROM calls ORDER BY id"), ElementsAre(Row{"c0-a"}, Row{"c0-b"}, Row{"c0-c"}));
  EXPECT_EQ(db.value("SELECT count(*) FROM legs"), "3");
}

TEST(SqliteCdrStoreTest, ACallThatCannotBeWrittenLeavesNoRowsAndCostsNoOtherCall) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  ASSERT_EQ(store->write({sample_record("c0-dup")}).written, 1u);
  // The same id again (PRIMARY KEY): that call is skipped whole, the others of the batch are written.
  EXPECT_EQ(store->write({sample_record("c0-x"), sample_record("c0-dup", true), sample_record("c0-y")}).written, 2u);
  Db db(path);
  EXPECT_EQ(db.value("SELECT count(*) FROM calls"), "3");
  EXPECT_EQ(db.value("SELECT count(*) FROM legs"), "3") << "no leg of the refused call";
  EXPECT_EQ(db.value("SELECT count(*) FROM transfers"), "0");
}

TEST(SqliteCdrStoreTest, AFileFromANewerWarmlineIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.file("cdr.sqlite");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    sqlite3_exec(raw, "CREATE TABLE calls (id TEXT); PRAGMA user_version = 3;", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  EXPECT_THAT(open_error(path), HasSubstr("newer warmline (schema version 3"));
  Db db(path);
  EXPECT_EQ(db.value("PRAGMA user_version"), "3");
  EXPECT_EQ(db.value("PRAGMA journal_mode"), "delete") << "the file was not switched to WAL";
}

TEST(SqliteCdrStoreTest, AFileThatIsNotADatabaseIsRefused) {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "these are not call records, but they are long enough to fill a database header page\n";
  EXPECT_THAT(open_error(path), HasSubstr("not a database"));
}

TEST(SqliteCdrStoreTest, ADatabaseOfSomethingElseIsRefused) {
  TempDir dir;
  const std::string path = dir.file("other.sqlite");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    sqlite3_exec(raw, "CREATE TABLE inventory (item TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  EXPECT_THAT(open_error(path), HasSubstr("not a warmline call record database"));
}

TEST(SqliteCdrStoreTest, AFolderThatDoesNotExistIsAnError) {
  TempDir dir;
  EXPECT_THAT(open_error(dir.file("missing/cdr.sqlite")), HasSubstr("unable to open"));
}

}  // namespace
}  // namespace warmline::server
