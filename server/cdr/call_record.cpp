#include "server/cdr/call_record.hpp"

#include <fmt/format.h>

#include "server/json_writer.hpp"

namespace warmline::server {

std::string_view to_string(LegRole role) { return role == LegRole::kA ? "a" : "b"; }

std::string_view to_string(LegDirection direction) { return direction == LegDirection::kIn ? "in" : "out"; }

std::string_view to_string(HangupSide side) {
  switch (side) {
    case HangupSide::kNone: return "";
    case HangupSide::kLocal: return "local";
    case HangupSide::kRemote: return "remote";
  }
  return "";
}

std::string_view to_string(TransferStrategy strategy) { return strategy == TransferStrategy::kRefer ? "refer" : "dial"; }

std::string format_record_time(RecordTime t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string targets_json(const TransferRecord& transfer) {
  JsonWriter w;
  w.begin_array();
  for (const auto& t : transfer.targets_tried) w.value(t);
  w.end_array();
  return w.take();
}

std::string attempts_json(const TransferRecord& transfer) {
  JsonWriter w;
  w.begin_array();
  for (const auto& a : transfer.attempts) {
    w.begin_object()
        .field("target", a.target)
        .field("sip_status", a.sip_status)
        .field("result", ai::to_string(a.result))
        .field("strategy", to_string(a.strategy))
        .end_object();
  }
  w.end_array();
  return w.take();
}

}  // namespace warmline::server
