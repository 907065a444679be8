// Twilio's call update on warmline (server/provider_twilio.cpp) against real calls: hanging up, TwiML
// run verb by verb (speech before a hang-up, pauses, <Dial> and <Refer> as cold transfers), documents
// refused as a whole with nothing run, credentials, accounts and calls of other protocols answered as
// Twilio answers, and the call resource's shape. Requests and answers follow Twilio's Call resource and
// error documentation (https://www.twilio.com/docs/voice/api/call-resource, .../docs/api/errors).
#include <simdjson.h>

#include "provider_fixture.hpp"

using namespace std::chrono_literals;

namespace warmline::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A field of a JSON object body, as text ("" when absent; numbers and null as written).
std::string field(const HttpResponse& r, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(r.body).get_object().get(o) != simdjson::SUCCESS) return "<not a JSON object>";
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return "";
  if (e.is_string()) return std::string(e.get_string().value());
  return simdjson::minify(e);
}

struct TwilioApiTest : ProviderApiTest {
  // The REFER a transfer sent (a copy: the transport's log grows).
  std::optional<sip::Message> refer(const Caller& c) const {
    const sip::Message* r = last_request(c, "REFER");
    return r ? std::optional<sip::Message>(*r) : std::nullopt;
  }
  void expect_twilio_error(const HttpResponse& r, int status, int code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(field(r, "code"), std::to_string(code)) << r.body;
    EXPECT_EQ(field(r, "status"), std::to_string(status));
    EXPECT_EQ(field(r, "more_info"), "https://www.twilio.com/docs/errors/" + std::to_string(code));
    EXPECT_FALSE(field(r, "message").empty());
  }
};

TEST_F(TwilioApiTest, StatusCompletedHangsUpAndAnswersTheCallResource) {
  Caller c = active_call();
  HttpResponse r = twilio(c, {{"Status", "completed"}, {"SomethingNew", "ignored"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r, "sid"), c.id);
  EXPECT_EQ(field(r, "account_sid"), "AC0123");
  EXPECT_EQ(field(r, "status"), "completed");
  EXPECT_EQ(field(r, "api_version"), "2010-04-01");
  EXPECT_EQ(field(r, "direction"), "inbound");
  EXPECT_EQ(field(r, "from"), "+27115550123");
  EXPECT_EQ(field(r, "to"), kDemoNumber);
  EXPECT_EQ(field(r, "uri"), "/2010-04-01/Accounts/AC0123/Calls/" + c.id + ".json");
  EXPECT_EQ(field(r, "duration"), "0");
  EXPECT_FALSE(field(r, "end_time").empty());
  EXPECT_EQ(field(r, "price"), "null");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->stop_reason(), "api_hangup");
  // The call is gone: a second update is Twilio's 20404.
  HttpResponse again = twilio(c, {{"Status", "completed"}});
  expect_twilio_error(again, 404, 20404);
  EXPECT_EQ(field(again, "message"), "The requested resource " + twilio_path(c) + " was not found");
}

TEST_F(TwilioApiTest, CanceledHangsUpToo) {
  Caller c = active_call();
  EXPECT_EQ(twilio(c, {{"Status", "canceled"}}).status, 200);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, OtherStatusValuesAndUrlAreRefused) {
  Caller c = active_call();
  expect_twilio_error(twilio(c, {{"Status", "in-progress"}}), 400, 21200);
  HttpResponse url = twilio(c, {{"Url", "https://bot.example/twiml"}});
  expect_twilio_error(url, 400, 21200);
  EXPECT_THAT(field(url, "message"), HasSubstr("Url"));
  HttpResponse json = request("POST", twilio_path(c), R"({"Status":"completed"})",
                              {basic("AC0123:tw-s3cret"), {"Content-Type", "application/json"}});
  expect_twilio_error(json, 400, 21200);
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TwilioApiTest, NoParametersAnswersTheCallAsItIs) {
  Caller c = active_call();
  HttpResponse r = twilio(c, {});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "status"), "in-progress");
  EXPECT_EQ(field(r, "end_time"), "null");
  HttpResponse fetched = request("GET", twilio_path(c), {}, {basic("AC0123:tw-s3cret")});
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(field(fetched, "sid"), c.id);
  EXPECT_EQ(field(fetched, "status"), "in-progress");
}

TEST_F(TwilioApiTest, CredentialsAreCheckedLikeTwilio) {
  Caller c = active_call();
  for (const std::vector<HttpHeader>& headers :
       {std::vector<HttpHeader>{form_type()}, {basic("AC0123:wrong"), form_type()}, {basic("AC9999:tw-s3cret"), form_type()},
        {{"Authorization", "Bearer tw-s3cret"}, form_type()}}) {
    HttpResponse r = request("POST", twilio_path(c), form({{"Status", "completed"}}), headers);
    EXPECT_EQ(r.body, R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(header(r, "WWW-Authenticate"), R"(Basic realm="Twilio API")");
  }
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TwilioApiTest, UnknownCallsOtherAccountsAndOtherProtocolsAre20404) {
  Caller twilio_call = active_call();
  Caller telnyx_call = active_call(kForwardingNumber);
  const auto creds = std::vector<HttpHeader>{basic("AC0123:tw-s3cret"), form_type()};
  const std::string body = form({{"Status", "completed"}});
  for (const std::string& path :
       {std::string("/2010-04-01/Accounts/AC0123/Calls/c0-nosuchcall.json"), twilio_path(twilio_call, "AC9999"),
        twilio_path(telnyx_call), std::string("/2010-04-01/Accounts/AC0123/Calls/CA0123456789abcdef.json")}) {
    HttpResponse r = request("POST", path, body, creds);
    expect_twilio_error(r, 404, 20404);
    EXPECT_EQ(field(r, "message"), "The requested resource " + path + " was not found");
  }
  EXPECT_TRUE(requests(twilio_call, "BYE").empty());
  EXPECT_TRUE(requests(telnyx_call, "BYE").empty());
}

TEST_F(TwilioApiTest, WithoutApiKeyOrAccountNoCredentialsAreNeeded) {
  Caller c = active_call(kDialerNumber);
  HttpResponse r = request("POST", twilio_path(c, "ACanything"), form({{"Status", "completed"}}), {form_type()});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r, "account_sid"), "ACanything");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, SayThenHangupEndsTheCallOnceTheSpeechHasPlayed) {
  Caller c = active_call();
  c.agent->audio(800);  // the agent's own goodbye is still queued
  HttpResponse r = twiml(c, "<Response><Say voice=\"alice\">Goodbye &amp; thanks</Say><Hangup/></Response>");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(field(r, "status"), "in-progress");
  ASSERT_EQ(speech.requests.size(), 1u);
  EXPECT_EQ(speech.requests[0].text, "Goodbye & thanks");
  EXPECT_EQ(speech.requests[0].rate_hz, 8000u);  // a Twilio agent's rate
  c.media->play_out();                            // the agent's audio has played; the speech has not come
  EXPECT_TRUE(requests(c, "BYE").empty());
  speech.finish(0, 1600);
  settle();
  EXPECT_EQ(c.media->queued_samples, 1600u);
  EXPECT_TRUE(requests(c, "BYE").empty());
  c.media->play_out();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->stop_reason(), "api_hangup");
}

TEST_F(TwilioApiTest, ADocumentThatRunsOutEndsTheCallAsOnTwilio) {
  Caller c = active_call();
  EXPECT_EQ(twiml(c, "<Response><Say loop=\"2\">Bye</Say></Response>").status, 200);
  ASSERT_EQ(speech.requests.size(), 2u);
  speech.finish(0, 160);
  speech.finish(1, 160);
  settle();
  c.media->play_out();
  EXPECT_EQ(requests(c, "BYE").size(), 1u);

  Caller empty = active_call();
  EXPECT_EQ(twiml(empty, "<Response/>").status, 200);
  EXPECT_EQ(requests(empty, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, PauseWaitsItsLengthBeforeTheNextVerb) {
  Caller c = active_call();
  EXPECT_EQ(twiml(c, "<Response><Pause length=\"3\"/><Hangup/></Response>").status, 200);
  advance(2900ms);
  EXPECT_TRUE(requests(c, "BYE").empty());
  advance(200ms);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, DialIsAColdTransferAfterTheSpeech) {
  Caller c = active_call();
  HttpResponse r = twiml(c, "<Response><Say>Transferring you</Say><Dial timeout=\"20\" action=\"https://bot/after\">"
                            "<Sip>sip:support@pbx.example.com</Sip></Dial></Response>");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(refer(c)) << "the REFER waits for the speech";
  speech.finish(0, 800);
  settle();
  c.media->play_out();
  auto sent = refer(c);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->header("Refer-To"), "<" + std::string(kSupportUri) + ">");
  EXPECT_THAT(c.agent->frames, ::testing::Contains(::testing::StartsWith("transfer t1 dialing")));
  // The target is busy: unlike Twilio (which would go on to the action URL or hang up), warmline gives
  // the caller back to the agent, which hears the result.
  reply(c, *sent, 202, "Accepted");
  notify(c, sent->cseq.number, 486, "Busy Here", true);
  auto ended = c.agent->ended_transfers();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].result, TransferResult::kBusy);
  EXPECT_TRUE(requests(c, "BYE").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TwilioApiTest, DialByTargetName) {
  Caller c = active_call();
  EXPECT_EQ(twiml(c, "<Response><Dial>Sales</Dial></Response>").status, 200);
  auto sent = refer(c);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->header("Refer-To"), "<" + std::string(kSalesUri) + ">");
}

TEST_F(TwilioApiTest, ATargetWarmlineWillNotDialRefusesTheWholeDocument) {
  Caller c = active_call();
  HttpResponse r = twiml(c, "<Response><Say>One moment</Say><Dial><Number>+15551234567</Number></Dial></Response>");
  expect_twilio_error(r, 400, 13224);
  EXPECT_THAT(field(r, "message"), HasSubstr("+15551234567"));
  EXPECT_TRUE(speech.requests.empty()) << "nothing of a refused document runs";
  EXPECT_FALSE(refer(c));
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TwilioApiTest, CallerIdMustBeTheOneWarmlinePresents) {
  Caller c = active_call(kDialerNumber);
  const std::string path = twilio_path(c, "AC1");
  auto dial = [&](std::string caller_id, std::string target) {
    return request("POST", path,
                   form({{"Twiml", "<Response><Dial callerId=\"" + caller_id + "\">" + target + "</Dial></Response>"}}),
                   {form_type()});
  };
  HttpResponse wrong = dial("+27115550181", "Craig");  // Craig is presented +27115550180 (the trunk's first)
  expect_twilio_error(wrong, 400, 13214);
  EXPECT_THAT(field(wrong, "message"), HasSubstr("+27115550180"));
  EXPECT_FALSE(refer(c));
  HttpResponse right = dial("+27115550180", "Craig");
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_TRUE(refer(c)) << "the carrier takes REFER: a cold transfer by REFER";
}

TEST_F(TwilioApiTest, ReferNeedsATrunkThatAcceptsIt) {
  Caller c = make_caller(kDemoNumber, kNoReferPeer);
  invite(c);
  c.agent->open();
  ack(c);
  HttpResponse r = twiml(c, "<Response><Refer><Sip>sip:support@pbx.example.com</Sip></Refer></Response>");
  expect_twilio_error(r, 400, 13801);
  EXPECT_TRUE(requests(c, "REFER").empty());

  Caller ok = active_call();
  EXPECT_EQ(twiml(ok, "<Response><Refer><Sip>sip:support@pbx.example.com</Sip></Refer></Response>").status, 200);
  ASSERT_TRUE(refer(ok));
}

TEST_F(TwilioApiTest, DocumentsWarmlineCannotHonourAreRefusedWithNothingRun) {
  Caller c = active_call();
  struct Case {
    std::string doc;
    int code;
  } cases[] = {
      {"<Response><Say>hi</Say>", 12100},
      {"<Response><Gather/></Response>", 12200},
      {"<Response><Say>hi</Say><Play>https://x/a.wav</Play></Response>", 12200},
      {"<Response><Play digits=\"1\"/></Response>", 12200},
      {"<Response><Dial>Support</Dial><Say>after</Say></Response>", 12200},
      {"<Response><Refer><Sip>sip:support@pbx.example.com</Sip></Refer><Hangup/></Response>", 12200},
  };
  for (const Case& k : cases) {
    HttpResponse r = twiml(c, k.doc);
    expect_twilio_error(r, 400, k.code);
  }
  EXPECT_THAT(field(twiml(c, cases[2].doc), "message"), HasSubstr("configured"));
  EXPECT_TRUE(speech.requests.empty());
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TwilioApiTest, NoTwimlWhileATransferRuns) {
  Caller c = active_call();
  c.agent->command(transfer({"Support"}, "t7"));
  settle();
  ASSERT_TRUE(refer(c));
  HttpResponse r = twiml(c, "<Response><Say>hello</Say></Response>");
  expect_twilio_error(r, 400, 21220);
  EXPECT_THAT(field(r, "message"), HasSubstr("t7"));
  EXPECT_TRUE(speech.requests.empty());
  // Hanging up still works.
  EXPECT_EQ(twilio(c, {{"Status", "completed"}}).status, 200);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, ANewDocumentReplacesTheOneRunning) {
  Caller c = active_call();
  EXPECT_EQ(twiml(c, "<Response><Pause length=\"5\"/><Hangup/></Response>").status, 200);
  EXPECT_EQ(twiml(c, "<Response><Pause length=\"60\"/><Hangup/></Response>").status, 200);
  advance(10s);
  EXPECT_TRUE(requests(c, "BYE").empty()) << "the first document's hang-up never runs";
  advance(51s);
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
}

TEST_F(TwilioApiTest, TheCallerHangingUpStopsTheScript) {
  Caller c = active_call();
  EXPECT_EQ(twiml(c, "<Response><Pause length=\"2\"/><Say>too late</Say></Response>").status, 200);
  send(c, "BYE");
  advance(3s);
  EXPECT_TRUE(speech.requests.empty());
  EXPECT_EQ(c.agent->stop_reason(), "caller_hangup");
}

TEST_F(TwilioApiTest, SayWithoutTextToSpeechIsRefused) {
  ctx.speech = nullptr;
  Caller c = active_call();
  HttpResponse r = twiml(c, "<Response><Say>hi</Say></Response>");
  expect_twilio_error(r, 400, 12200);
  EXPECT_THAT(field(r, "message"), HasSubstr("text-to-speech"));
  EXPECT_TRUE(requests(c, "BYE").empty());
}

}  // namespace
}  // namespace warmline::server
