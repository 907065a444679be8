// libFuzzer target: the HTTP request parser and the router of the API server (server/http_server.cpp's
// parse_http_request: Beast's parser with the server's limits, as a connection reads a request;
// server/http_router.cpp), and the form and credential parsing of the providers' REST paths
// (server/provider_http.cpp). Every input is the bytes a client sent on a fresh connection. A request
// either parses, and is routed through the API's and the providers' route patterns (the handlers here
// only answer, the real ones need a running gateway), or is refused with 400/413/431 or dropped. Every
// answer is exactly one, with a known status and, for errors, a JSON body.
// Build and run: tests/fuzz/README.md; seeds and findings in corpus/server_http/.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_router.hpp"
#include "server/http_server.hpp"
#include "server/provider_http.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::server;
using namespace warmline::server::provider;
using warmline::fuzz::is_json;
using warmline::fuzz::require;

struct Capture final : ResponseSink {
  explicit Capture(std::optional<HttpResponse>& out, int& count) : out_(out), count_(count) {}
  void deliver(HttpResponse response) override {
    ++count_;
    out_ = std::move(response);
  }
  std::optional<HttpResponse>& out_;
  int& count_;
};

// A handler that checks its path parameters and answers 200.
HttpHandler answer(std::initializer_list<std::string_view> params) {
  std::vector<std::string> names(params.begin(), params.end());
  return [names](const HttpRequest& request, Responder respond) {
    for (const std::string& name : names) require(!request.param(name).empty(), "a route parameter is empty");
    if (request.method == "POST") {
      if (const auto form = parse_form(request.body)) (void)form_value(*form, "Url");
    }
    const std::string_view authorization = request.header("Authorization");
    (void)basic_auth_matches(authorization, "AC25e16e9a716a4a1786a7c83f58e30482", "secret");
    (void)bearer_auth_matches(authorization, "token");
    respond(HttpResponse::json(200, "{}"));
  };
}

// The patterns of server/api.cpp and the providers' REST paths (provider_api.cpp, provider_twilio.cpp).
const HttpRouter& router() {
  static const HttpRouter r = [] {
    HttpRouter r;
    r.get("/healthz", answer({}));
    r.get("/readyz", answer({}));
    r.get("/metrics", answer({}));
    r.get("/v1/calls", answer({}));
    r.get("/v1/trunks", answer({}));
    r.get("/v1/calls/{id}", answer({"id"}));
    r.post("/v1/calls/{id}/transfer", answer({"id"}));
    r.post("/v1/calls/{id}/transfer/{tid}/accept", answer({"id", "tid"}));
    r.post("/v1/calls/{id}/hangup", answer({"id"}));
    r.post("/v1/drain", answer({}));
    r.post("/v1/resume", answer({}));
    r.post("/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json", answer({"AccountSid", "CallSid"}));
    r.get("/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json", answer({"AccountSid", "CallSid"}));
    r.post("/v2/calls/{call_control_id}/actions/hangup", answer({"call_control_id"}));
    r.add("DELETE", "/v1/Account/{auth_id}/Call/{call_uuid}/", answer({"auth_id", "call_uuid"}));
    return r;
  }();
  return r;
}

void require_answer(const HttpResponse& response) {
  const int s = response.status;
  require(s == 200 || s == 400 || s == 404 || s == 405 || s == 413 || s == 431 || s == 500,
          "an answer with an unexpected status");
  if (s != 200) require(is_json(response.body), "an error answer whose body is not JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  HttpServerOptions options;
  options.body_limit = 4096;  // small limits, so 413 and 431 are reachable with short inputs
  options.header_limit = 1024;
  HttpParseOutcome outcome = parse_http_request(bytes, options);
  require(!(outcome.request && outcome.refusal), "a request both parsed and refused");
  if (outcome.refusal) {
    require_answer(*outcome.refusal);
    return 0;
  }
  if (!outcome.request) return 0;  // the bytes ended first: the connection closes without an answer
  HttpRequest& request = *outcome.request;
  require(request.body.size() <= options.body_limit, "a body over the limit was read");
  require(request.path.size() <= request.target.size(), "the path is longer than the target");

  std::optional<HttpResponse> response;
  int answers = 0;
  router().dispatch(request, Responder(std::make_unique<Capture>(response, answers)));
  require(answers == 1 && response.has_value(), "a routed request was not answered exactly once");
  require_answer(*response);
  return 0;
}
