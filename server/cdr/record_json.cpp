#include "server/cdr/record_json.hpp"

#include <array>
#include <cassert>
#include <span>

#include "server/cdr/record_rows.hpp"

namespace warmline::server {

namespace {

// The column names of docs/cdr.md, in record_rows.hpp's order.
constexpr std::array<std::string_view, 9> kCallColumns = {
    "id", "agent", "from_party", "to_party", "started_at", "answered_at", "ended_at", "end_reason", "recording"};
constexpr std::array<std::string_view, 15> kLegColumns = {
    "call_id", "role", "direction", "remote_uri", "trunk", "sip_call_id", "from_uri", "to_uri",
    "pai", "codec", "started_at", "answered_at", "ended_at", "final_status", "hangup_side"};
constexpr std::array<std::string_view, 11> kTransferColumns = {
    "call_id", "transfer_id", "mode", "targets_tried", "strategy", "attempts", "result",
    "requested_at", "answered_at", "bridged_at", "ended_at"};

// The binder record_rows.hpp fills: each value becomes the next column's member.
class JsonRow {
 public:
  JsonRow(JsonWriter& w, std::span<const std::string_view> columns) : w_(w), columns_(columns) {}

  JsonRow& text(std::string_view v) {
    const std::string_view column = next();
    // These two columns hold JSON text (targets_json, attempts_json): embedded as arrays.
    if (column == "targets_tried" || column == "attempts") w_.json(v);
    else w_.value(v);
    return *this;
  }
  JsonRow& text_or_null(std::string_view v) { return v.empty() ? null() : text(v); }
  JsonRow& time(RecordTime t) { return text(format_record_time(t)); }
  JsonRow& time(const std::optional<RecordTime>& t) { return t ? time(*t) : null(); }
  JsonRow& status(int v) {
    if (v == 0) return null();
    next();
    w_.value(v);
    return *this;
  }

 private:
  std::string_view next() {
    // record_rows.hpp binds exactly the listed columns (record_json_test.cpp checks the rows).
    assert(i_ < columns_.size());
    const std::string_view column = columns_[i_++];
    w_.key(column);
    return column;
  }
  JsonRow& null() {
    next();
    w_.null();
    return *this;
  }

  JsonWriter& w_;
  std::span<const std::string_view> columns_;
  size_t i_ = 0;
};

}  // namespace

void write_record_json(JsonWriter& w, const CallRecord& record) {
  w.begin_object();
  JsonRow call(w, kCallColumns);
  call_row(call, record);
  w.key("legs").begin_array();
  for (const LegRecord& leg : record.legs) {
    w.begin_object();
    JsonRow row(w, kLegColumns);
    leg_row(row, record, leg);
    w.end_object();
  }
  w.end_array().key("transfers").begin_array();
  for (const TransferRecord& t : record.transfers) {
    w.begin_object();
    JsonRow row(w, kTransferColumns);
    transfer_row(row, record, t);
    w.end_object();
  }
  w.end_array().end_object();
}

}  // namespace warmline::server
