// Telnyx's hangup and transfer actions and Plivo's hangup on warmline (server/provider_api.cpp) against
// real calls, answered in each provider's documented shapes: Telnyx {"data":{"result":"ok"}} and
// {"errors":[...]} with 422/90018 for a call that has ended
// (https://developers.telnyx.com/api-reference/call-commands/hangup-call, .../transfer-call), Plivo 204
// and {"api_id","error"} (https://www.plivo.com/docs/voice/api/call/hangup-a-call).
#include "provider_fixture.hpp"

namespace warmline::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr std::string_view kCallEnded =
    R"({"errors":[{"code":"90018","title":"Call has already ended","detail":"This call is no longer active and can't receive commands."}]})";

struct TelnyxApiTest : ProviderApiTest {
  HttpResponse action(const Caller& c, std::string_view what, std::string body = "{}",
                      std::string authorization = "Bearer KEY_tx") {
    return action(c.id, what, std::move(body), std::move(authorization));
  }
  HttpResponse action(const std::string& id, std::string_view what, std::string body = "{}",
                      std::string authorization = "Bearer KEY_tx") {
    std::vector<HttpHeader> headers{{"Content-Type", "application/json"}};
    if (!authorization.empty()) headers.push_back({"Authorization", std::move(authorization)});
    return request("POST", "/v2/calls/" + id + "/actions/" + std::string(what), std::move(body), std::move(headers));
  }
};

TEST_F(TelnyxApiTest, HangupEndsTheCall) {
  Caller c = active_call(kForwardingNumber);
  HttpResponse r = action(c, "hangup", R"({"client_state":"aGk=","command_id":"891510ac"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"data":{"result":"ok"}})");
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->stop_reason(), "api_hangup");
  // Again, now that it has ended: exactly Telnyx's answer.
  HttpResponse again = action(c, "hangup");
  EXPECT_EQ(again.status, 422);
  EXPECT_EQ(again.body, kCallEnded);
}

TEST_F(TelnyxApiTest, UnknownCallsAndCallsOfOtherProtocolsHaveEnded) {
  Caller twilio_call = active_call();
  for (const std::string& id : {std::string("c0-nosuchcall"), std::string("v3:abc"), twilio_call.id}) {
    for (std::string_view what : {"hangup", "transfer"}) {
      HttpResponse r = action(id, what, R"({"to":"Support"})");
      EXPECT_EQ(r.status, 422) << id;
      EXPECT_EQ(r.body, kCallEnded);
    }
  }
  EXPECT_TRUE(requests(twilio_call, "BYE").empty());
  EXPECT_TRUE(requests(twilio_call, "REFER").empty());
}

TEST_F(TelnyxApiTest, ABearerTokenIsNeeded) {
  Caller c = active_call(kForwardingNumber);
  for (const char* auth : {"", "Bearer KEY_other", "Basic S0VZX3R4Og==", "KEY_tx"}) {
    HttpResponse r = action(c, "hangup", "{}", auth);
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_THAT(r.body, HasSubstr(R"("code":"10009","title":"Authentication failed")"));
    EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
  }
  EXPECT_TRUE(requests(c, "BYE").empty());
}

TEST_F(TelnyxApiTest, TransferIsAColdTransfer) {
  Caller c = active_call(kForwardingNumber);
  HttpResponse r = action(c, "transfer",
                          R"({"to":"sip:support@pbx.example.com","timeout_secs":25,"client_state":"aGk=",)"
                          R"("webhook_url":"https://bot.example/hook","custom_headers":[{"name":"X-Case","value":"42"}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"data":{"result":"ok"}})");
  const sip::Message* refer = last_request(c, "REFER");
  ASSERT_NE(refer, nullptr);
  EXPECT_EQ(refer->header("Refer-To"), "<" + std::string(kSupportUri) + ">");
  EXPECT_EQ(c.agent->last_transfer()->state, ai::TransferState::kDialing);
}

TEST_F(TelnyxApiTest, TransferRequestsWarmlineCannotHonourAre422) {
  Caller c = active_call(kForwardingNumber);
  struct Case {
    const char* body;
    const char* code;
    const char* pointer;  // "" = no source
  } cases[] = {
      {R"({})", "10004", "/to"},
      {R"({"from":"+27115550180"})", "10004", "/to"},
      {R"({"to":42})", "10015", "/to"},
      {R"({"to":"Support","to":"Sales"})", "10015", "/to"},
      {R"(not json)", "10015", ""},
      {R"(["to"])", "10015", ""},
      {R"({"to":"Support","timeout_secs":4})", "10015", "/timeout_secs"},
      {R"({"to":"Support","timeout_secs":"30"})", "10015", "/timeout_secs"},
      {R"({"to":"Support","audio_url":"https://x/whisper.mp3"})", "10015", ""},
      {R"({"to":"Support","answering_machine_detection":"detect"})", "10015", ""},
      {R"({"to":"Support","record":"record-from-answer"})", "10015", ""},
      {R"({"to":"Support","custom_headers":{"X-Case":"42"}})", "10015", "/custom_headers"},
      {R"({"to":"Support","custom_headers":[{"name":"Via","value":"x"}]})", "10015", ""},
      {R"({"to":"+15551234567"})", "10015", "/to"},
      {R"({"to":"Nobody"})", "10015", "/to"},
      {R"({"to":"Support","from":"+27115550199"})", "10015", "/from"},
  };
  for (const Case& k : cases) {
    HttpResponse r = action(c, "transfer", k.body);
    EXPECT_EQ(r.status, 422) << k.body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(std::string(R"({"errors":[{"code":")") + k.code + "\"")) << k.body << " -> " << r.body;
    if (*k.pointer) EXPECT_THAT(r.body, HasSubstr(std::string(R"("source":{"pointer":")") + k.pointer)) << k.body;
    else EXPECT_THAT(r.body, ::testing::Not(HasSubstr("source"))) << k.body << " -> " << r.body;
  }
  EXPECT_TRUE(requests(c, "REFER").empty());
  EXPECT_EQ(call(c)->state(), CallState::kActive);
}

TEST_F(TelnyxApiTest, ASecondTransferWhileOneRunsIsRefused) {
  Caller c = active_call(kForwardingNumber);
  EXPECT_EQ(action(c, "transfer", R"({"to":"Support"})").status, 200);
  HttpResponse r = action(c, "transfer", R"({"to":"Operator"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_THAT(r.body, HasSubstr("transfer_in_progress"));
  EXPECT_EQ(requests(c, "REFER").size(), 1u);
}

struct PlivoApiTest : ProviderApiTest {
  HttpResponse hangup(const Caller& c, std::string_view auth_id = "MA1234", std::vector<HttpHeader> headers = {basic("MA1234:pl-s3cret")}) {
    return request("DELETE", "/v1/Account/" + std::string(auth_id) + "/Call/" + c.id + "/", {}, std::move(headers));
  }
  static void expect_plivo_error(const HttpResponse& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status);
    EXPECT_THAT(r.body, MatchesRegex(R"(\{"api_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",)"
                                     R"("error":")" + std::string(error) + R"("\})"));
  }
};

TEST_F(PlivoApiTest, DeleteHangsUpWith204AndNoBody) {
  Caller c = active_call(kPlainNumber);
  HttpResponse r = hangup(c);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.content_type.empty());
  EXPECT_EQ(requests(c, "BYE").size(), 1u);
  EXPECT_EQ(c.agent->stop_reason(), "api_hangup");
  expect_plivo_error(hangup(c), 404, "not found");
}

TEST_F(PlivoApiTest, OtherAccountsCallsAndProtocolsAreNotFound) {
  Caller plivo_call = active_call(kPlainNumber);
  Caller twilio_call = active_call();
  expect_plivo_error(hangup(plivo_call, "MA9999"), 404, "not found");
  expect_plivo_error(hangup(twilio_call), 404, "not found");
  Caller unknown;
  unknown.id = "c0-nosuchcall";
  expect_plivo_error(hangup(unknown), 404, "not found");
  EXPECT_TRUE(requests(plivo_call, "BYE").empty());
  EXPECT_TRUE(requests(twilio_call, "BYE").empty());
}

TEST_F(PlivoApiTest, BasicCredentialsAreNeeded) {
  Caller c = active_call(kPlainNumber);
  for (const auto& headers : {std::vector<HttpHeader>{}, {basic("MA1234:nope")}, {basic("MA9999:pl-s3cret")}}) {
    HttpResponse r = hangup(c, "MA1234", headers);
    expect_plivo_error(r, 401, "Authentication failed");
    EXPECT_EQ(header(r, "WWW-Authenticate"), R"(Basic realm="Plivo")");
  }
  EXPECT_TRUE(requests(c, "BYE").empty());
}

TEST_F(PlivoApiTest, TheTrailingSlashIsPartOfThePath) {
  Caller c = active_call(kPlainNumber);
  HttpResponse r = request("DELETE", "/v1/Account/MA1234/Call/" + c.id, {}, {basic("MA1234:pl-s3cret")});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(requests(c, "BYE").empty());
}

}  // namespace
}  // namespace warmline::server
