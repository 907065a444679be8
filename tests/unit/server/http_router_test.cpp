#include "server/http_router.hpp"
#include "server/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace warmline::server {
namespace {

// Records what a Responder delivered (and how often).
struct Delivered {
  std::vector<HttpResponse> responses;
};

class RecordingSink : public ResponseSink {
 public:
  explicit RecordingSink(std::shared_ptr<Delivered> out) : out_(std::move(out)) {}
  void deliver(HttpResponse response) override { out_->responses.push_back(std::move(response)); }

 private:
  std::shared_ptr<Delivered> out_;
};

class HttpRouterTest : public ::testing::Test {
 protected:
  HttpResponse dispatch(std::string method, std::string path) {
    auto out = std::make_shared<Delivered>();
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    router_.dispatch(request, Responder(std::make_unique<RecordingSink>(out)));
    EXPECT_EQ(out->responses.size(), 1u);
    return out->responses.empty() ? HttpResponse{} : out->responses.front();
  }

  static HttpHandler echo(std::string tag) {
    return [tag](const HttpRequest& r, Responder respond) {
      std::string body = tag;
      for (const auto& [k, v] : r.params) body += " " + k + "=" + v;
      respond(HttpResponse::text(200, body));
    };
  }

  HttpRouter router_;
};

TEST_F(HttpRouterTest, MatchesLiteralAndParameterSegments) {
  router_.get("/healthz", echo("health")).get("/v1/calls", echo("list")).get("/v1/calls/{id}", echo("one"))
      .post("/v1/calls/{id}/transfer", echo("transfer"));
  EXPECT_EQ(dispatch("GET", "/healthz").body, "health");
  EXPECT_EQ(dispatch("GET", "/v1/calls").body, "list");
  EXPECT_EQ(dispatch("GET", "/v1/calls/c-42").body, "one id=c-42");
  EXPECT_EQ(dispatch("GET", "/v1/calls/a%20b%2Fc").body, "one id=a b/c");  // percent-decoded
  EXPECT_EQ(dispatch("POST", "/v1/calls/c-42/transfer").body, "transfer id=c-42");
}

TEST_F(HttpRouterTest, UnknownPathIs404Json) {
  router_.get("/v1/calls/{id}", echo("one"));
  for (const char* path : {"/nope", "/v1/calls/", "/v1/calls/x/y", "/v1/calls//", "/"}) {
    HttpResponse r = dispatch("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, std::string(R"({"error":{"code":"not_found","message":"no such resource: )") + path + "\"}}");
  }
}

TEST_F(HttpRouterTest, WrongMethodIs405WithAllow) {
  router_.get("/v1/calls/{id}", echo("get")).add("DELETE", "/v1/calls/{id}", echo("del")).post("/v1/drain", echo("drain"));
  HttpResponse r = dispatch("PUT", "/v1/calls/x");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "Allow");
  EXPECT_EQ(r.headers[0].value, "GET, DELETE");
  EXPECT_EQ(r.body, R"json({"error":{"code":"method_not_allowed","message":"PUT is not allowed here (allowed: GET, DELETE)"}})json");
  EXPECT_EQ(dispatch("GET", "/v1/drain").status, 405);
}

TEST_F(HttpRouterTest, InvalidPatternsAreRejectedAtRegistration) {
  EXPECT_THROW(router_.get("v1/calls", echo("x")), std::invalid_argument);
  EXPECT_THROW(router_.get("/v1/{id", echo("x")), std::invalid_argument);
  EXPECT_THROW(router_.get("/v1//calls", echo("x")), std::invalid_argument);
  EXPECT_THROW(router_.get("/v1/{}", echo("x")), std::invalid_argument);           // no name
  EXPECT_THROW(router_.get("/v1/{}.json", echo("x")), std::invalid_argument);
  EXPECT_THROW(router_.get("/v1/x{id}", echo("x")), std::invalid_argument);        // a prefix is not a form
  EXPECT_THROW(router_.get("/v1/{id}.{ext}", echo("x")), std::invalid_argument);   // one parameter a segment
  EXPECT_THROW(router_.get("/v1/{id}}", echo("x")), std::invalid_argument);
  EXPECT_THROW(router_.get("/v1/{i{d}", echo("x")), std::invalid_argument);
}

TEST_F(HttpRouterTest, ParameterWithLiteralSuffix) {
  router_.post("/2010-04-01/Accounts/{account}/Calls/{sid}.json", echo("twilio"))
      .get("/v1/files/{name}.tar.gz", echo("archive"));
  EXPECT_EQ(dispatch("POST", "/2010-04-01/Accounts/AC1/Calls/c0-abc.json").body, "twilio account=AC1 sid=c0-abc");
  // The value is percent-decoded after the suffix was matched as sent; a ".json" inside it stays.
  EXPECT_EQ(dispatch("POST", "/2010-04-01/Accounts/AC1/Calls/a%2Eb.json.json").body,
            "twilio account=AC1 sid=a.b.json");
  EXPECT_EQ(dispatch("GET", "/v1/files/x.tar.gz").body, "archive name=x");
  // The suffix alone (nothing before it), another suffix, none, or an encoded one: no such resource.
  for (const char* path : {"/2010-04-01/Accounts/AC1/Calls/.json", "/2010-04-01/Accounts/AC1/Calls/c0-abc.xml",
                           "/2010-04-01/Accounts/AC1/Calls/c0-abc", "/2010-04-01/Accounts/AC1/Calls/c0-abc%2Ejson",
                           "/2010-04-01/Accounts/AC1/Calls/c0-abc.JSON", "/v1/files/x.gz"})
    EXPECT_EQ(dispatch("POST", path).status, 404) << path;
  // The path is known, the method is not.
  EXPECT_EQ(dispatch("GET", "/2010-04-01/Accounts/AC1/Calls/c0-abc.json").status, 405);
}

TEST_F(HttpRouterTest, TrailingSlashIsAnEmptySegment) {
  // Plivo's paths end in '/': "/Call/{uuid}/" and "/Call/{uuid}" are different resources.
  router_.add("DELETE", "/v1/Account/{auth}/Call/{uuid}/", echo("plivo"));
  EXPECT_EQ(dispatch("DELETE", "/v1/Account/MA1/Call/c0-x/").body, "plivo auth=MA1 uuid=c0-x");
  EXPECT_EQ(dispatch("DELETE", "/v1/Account/MA1/Call/c0-x").status, 404);
  EXPECT_EQ(dispatch("DELETE", "/v1/Account/MA1/Call//").status, 404);
}

TEST_F(HttpRouterTest, HandlerThatThrowsGets500) {
  router_.get("/boom", [](const HttpRequest&, Responder) { throw std::runtime_error("kaput"); });
  HttpResponse r = dispatch("GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":{"code":"internal_error","message":"kaput"}})");
}

TEST(ResponderTest, OnlyTheFirstAnswerCountsAcrossCopies) {
  auto out = std::make_shared<Delivered>();
  Responder a(std::make_unique<RecordingSink>(out));
  Responder b = a;
  EXPECT_FALSE(b.answered());
  EXPECT_TRUE(b.respond(HttpResponse::text(200, "first")));
  EXPECT_TRUE(a.answered());
  EXPECT_FALSE(a(HttpResponse::text(200, "second")));
  ASSERT_EQ(out->responses.size(), 1u);
  EXPECT_EQ(out->responses[0].body, "first");
}

TEST(ResponderTest, DroppedUnansweredGets500) {
  auto out = std::make_shared<Delivered>();
  {
    Responder a(std::make_unique<RecordingSink>(out));
    Responder b = std::move(a);
    EXPECT_TRUE(out->responses.empty());
  }
  ASSERT_EQ(out->responses.size(), 1u);
  EXPECT_EQ(out->responses[0].status, 500);
}

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"Content-Type", "application/json"}, {"X-Case", "42"}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("X-CASE"), "42");
  EXPECT_EQ(r.header("Accept"), "");
}

TEST(JsonWriterTest, BuildsNestedDocumentsWithCommas) {
  JsonWriter w;
  w.begin_object().key("calls").begin_array();
  w.begin_object().field("id", "c1").field("sip_status", 486).field("ok", false).key("transfer").null().end_object();
  w.begin_object().field("id", std::string("c2")).field("n", uint64_t{18446744073709551615u}).end_object();
  w.end_array().field("loss", 0.25).field("bad", std::nan("")).end_object();
  EXPECT_EQ(w.str(),
            R"({"calls":[{"id":"c1","sip_status":486,"ok":false,"transfer":null},{"id":"c2","n":18446744073709551615}],"loss":0.25,"bad":null})");
}

TEST(JsonWriterTest, EscapesAndRepairsStrings) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\te\x01\x1f");
  EXPECT_EQ(out, R"("a\"b\\c\nd\te\u0001\u001f")");
  out.clear();
  append_json_string(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x9E");  // é € 📞 pass through
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x9E\"");
  out.clear();
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate: each byte -> U+FFFD.
  append_json_string(out, std::string_view("x\x80y\xE2\x82z\xC0\xAF\xED\xA0\x80", 11));
  EXPECT_EQ(out, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace warmline::server
