// The webhooks' `call.ended` record (server/cdr/record_json.cpp): every column of the calls row, by its
// docs/cdr.md name, including the last one (recording), which the JSON once lacked: the binder then read
// past its column list (AddressSanitizer: global-buffer-overflow in the e2e webhooks test).
#include "server/cdr/record_json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace warmline::server {
namespace {

CallRecord record_with(std::string recording) {
  CallRecord r;
  r.id = "c1";
  r.agent = "demo";
  r.from = "+27115550123";
  r.to = "+27115550100";
  r.end_reason = "caller_hangup";
  r.recording = std::move(recording);
  return r;
}

std::string as_json(const CallRecord& r) {
  JsonWriter w;
  write_record_json(w, r);
  return w.str();
}

TEST(RecordJsonTest, TheCallsRowHasEveryColumnIncludingTheRecording) {
  const std::string text = as_json(record_with("/var/lib/warmline/rec/c1.wav"));
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  ASSERT_EQ(parser.parse(text).get_object().get(o), simdjson::SUCCESS) << text;
  for (const char* column : {"id", "agent", "from_party", "to_party", "started_at", "answered_at", "ended_at",
                             "end_reason", "recording"})
    EXPECT_EQ(o[column].error(), simdjson::SUCCESS) << column << " in " << text;
  std::string_view recording;
  ASSERT_EQ(o["recording"].get_string().get(recording), simdjson::SUCCESS) << text;
  EXPECT_EQ(recording, "/var/lib/warmline/rec/c1.wav");
  EXPECT_EQ(o.size(), 11u) << "9 columns, legs and transfers: " << text;
}

TEST(RecordJsonTest, ACallNotRecordedHasANullRecording) {
  const std::string text = as_json(record_with(""));
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  ASSERT_EQ(parser.parse(text).get_object().get(o), simdjson::SUCCESS) << text;
  ASSERT_EQ(o["recording"].error(), simdjson::SUCCESS) << text;
  EXPECT_TRUE(o["recording"].is_null());
  EXPECT_TRUE(o["answered_at"].is_null());
}

}  // namespace
}  // namespace warmline::server
