// The providers' REST paths (provider_api.hpp): the shared routing onto a call's shard, Telnyx's
// hangup and transfer actions and Plivo's hangup. Twilio's call update is in provider_twilio.cpp.
//
// Telnyx, from its Call Control reference (https://developers.telnyx.com/api-reference/call-commands/
// hangup-call and .../transfer-call) and error list (https://developers.telnyx.com/development/
// api-fundamentals/api-errors): success is 200 {"data":{"result":"ok"}}; errors are
// {"errors":[{"code","title","detail",...}]}; a command for a call that has ended (or that Telnyx does
// not know) is 422 with code 90018 "Call has already ended". Plivo, from its Call API reference
// (https://www.plivo.com/docs/voice/api/call/hangup-a-call and .../api/response): DELETE answers 204
// with no body; errors are JSON {"api_id","error"} with 401 or 404.
#include "server/provider_api.hpp"

#include <openssl/rand.h>
#include <simdjson.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include "ai_bridge/native_protocol.hpp"
#include "server/call.hpp"
#include "server/json_writer.hpp"
#include "server/provider_http.hpp"

namespace warmline::server {

namespace provider {

std::string_view CallRequest::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

void add_call_route(HttpRouter& router, const CallLocator& locate, std::string method, std::string_view pattern,
                    std::string id_param, CallHandler handler) {
  router.add(std::move(method), pattern,
             [locate, id_param = std::move(id_param), handler = std::move(handler)](const HttpRequest& req, Responder respond) {
               auto copy = std::make_shared<CallRequest>(CallRequest{
                   .path = req.path, .body = req.body, .authorization = std::string(req.header("Authorization")),
                   .content_type = std::string(req.header("Content-Type")), .params = req.params});
               locate(std::string(req.param(id_param)),
                      [copy, handler, respond](Call* call) { respond(handler(call, *copy)); });
             });
}

}  // namespace provider

namespace {

using provider::CallRequest;

// ---------------------------------------------------------------------------------------------------
// Telnyx

struct TelnyxError {
  int status;
  std::string_view code, title;
  std::string detail;
  std::string_view pointer = {};  // JSON pointer into the request body ("/to"); "" = none
};

HttpResponse telnyx_error(const TelnyxError& e) {
  JsonWriter w;
  w.begin_object().key("errors").begin_array().begin_object();
  w.field("code", e.code).field("title", e.title).field("detail", e.detail);
  if (!e.pointer.empty()) w.key("source").begin_object().field("pointer", e.pointer).end_object();
  w.end_object().end_array().end_object();
  return HttpResponse::json(e.status, w.take());
}

// Exactly what Telnyx answers for a command to a call that is over (Pipecat's Telnyx serializer, for
// one, treats this body as "the caller hung up first").
HttpResponse telnyx_call_ended() {
  return telnyx_error({422, "90018", "Call has already ended", "This call is no longer active and can't receive commands."});
}

HttpResponse telnyx_ok() { return HttpResponse::json(200, R"({"data":{"result":"ok"}})"); }

// The call, if it is a live call of a Telnyx agent whose credentials the request carries; otherwise the
// answer to give.
std::variant<Call*, HttpResponse> telnyx_call(Call* call, const CallRequest& req) {
  if (!call || call->agent().protocol != AgentProtocol::telnyx || call->state() == CallState::kEnded)
    return telnyx_call_ended();
  const std::string& key = call->agent().api_key;
  if (!key.empty() && !provider::bearer_auth_matches(req.authorization, key)) {
    HttpResponse r = telnyx_error({401, "10009", "Authentication failed",
                                   "The required authentication headers were either invalid or not included in the request."});
    r.headers.push_back({"WWW-Authenticate", "Bearer"});
    return r;
  }
  return call;
}

HttpResponse telnyx_hangup(Call* found, const CallRequest& req) {
  auto checked = telnyx_call(found, req);
  if (auto* answer = std::get_if<HttpResponse>(&checked)) return std::move(*answer);
  // The body's client_state and command_id concern webhooks and retries, which warmline has not.
  std::get<Call*>(checked)->hangup("api_hangup");
  return telnyx_ok();
}

// Transfer fields that change nothing warmline does (webhook routing and state, de-duplication of
// retried commands): accepted and ignored. Every other field but to/from/timeout_secs/custom_headers
// would change what happens (audio to the target, recording, answering machine detection, SIP
// credentials, time limits, ...), so it is refused rather than dropped.
constexpr std::array<std::string_view, 7> kTelnyxIgnoredFields = {
    "client_state", "command_id", "target_leg_client_state", "webhook_url", "webhook_url_method",
    "webhook_urls", "webhook_urls_method"};

// Telnyx's transfer body as a native transfer request: the native parser (ai::parse_transfer_request)
// then checks the target, ring time and headers exactly as it does for POST /v1/calls/{id}/transfer.
std::variant<ScriptTransfer, TelnyxError> telnyx_transfer_request(std::string_view body) {
  auto bad = [](std::string detail, std::string_view pointer = {}) {
    return TelnyxError{422, "10015", "Bad Request", std::move(detail), pointer};
  };
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get_object().get(object) != simdjson::SUCCESS)
    return bad("The request body is not a JSON object.");
  ScriptTransfer out;
  JsonWriter native;
  native.begin_object().key("targets").begin_array();
  bool has_to = false;
  for (auto [key, value] : object) {
    if (key == "to") {
      std::string_view to;
      if (value.get_string().get(to) != simdjson::SUCCESS || has_to) return bad("to must be one string.", "/to");
      native.value(to);
      has_to = true;
    } else if (key == "from") {
      std::string_view from;
      if (value.get_string().get(from) != simdjson::SUCCESS) return bad("from must be a string.", "/from");
      out.caller_id = std::string(from);
    } else if (key != "timeout_secs" && key != "custom_headers" &&
               std::find(kTelnyxIgnoredFields.begin(), kTelnyxIgnoredFields.end(), key) == kTelnyxIgnoredFields.end()) {
      return bad(fmt::format("{} is not supported by warmline.", std::string(key.substr(0, 64))));
    }
  }
  if (!has_to) return TelnyxError{422, "10004", "Missing required parameter", "to is required.", "/to"};
  native.end_array();
  if (simdjson::dom::element timeout; object["timeout_secs"].get(timeout) == simdjson::SUCCESS) {
    int64_t s = 0;
    if (timeout.get_int64().get(s) != simdjson::SUCCESS || s < 5 || s > 600)
      return bad("timeout_secs must be a whole number from 5 to 600.", "/timeout_secs");
    native.field("ring_timeout_s", s);
  }
  if (simdjson::dom::element headers; object["custom_headers"].get(headers) == simdjson::SUCCESS) {
    simdjson::dom::array list;
    if (headers.get_array().get(list) != simdjson::SUCCESS) return bad("custom_headers must be an array.", "/custom_headers");
    native.key("headers").begin_object();
    for (simdjson::dom::element h : list) {
      std::string_view name, value;
      if (h["name"].get_string().get(name) != simdjson::SUCCESS || h["value"].get_string().get(value) != simdjson::SUCCESS)
        return bad("each custom header needs a string name and value.", "/custom_headers");
      native.field(name, value);
    }
    native.end_object();
  }
  native.end_object();
  auto parsed = ai::parse_transfer_request(native.str());
  if (auto* e = std::get_if<ai::ProtocolError>(&parsed)) return bad(e->message + ".");
  out.request = std::get<ai::TransferRequest>(std::move(parsed));
  return out;
}

HttpResponse telnyx_transfer(Call* found, const CallRequest& req) {
  auto checked = telnyx_call(found, req);
  if (auto* answer = std::get_if<HttpResponse>(&checked)) return std::move(*answer);
  auto request = telnyx_transfer_request(req.body);
  if (auto* e = std::get_if<TelnyxError>(&request)) return telnyx_error(*e);
  std::vector<ScriptStep> steps;
  steps.emplace_back(std::get<ScriptTransfer>(std::move(request)));
  const auto refusal = std::get<Call*>(checked)->run_script(std::move(steps));
  if (!refusal) return telnyx_ok();
  using Code = TransferRefusal::Code;
  const bool about_target = refusal->code == Code::kUnknownTarget || refusal->code == Code::kNumberNotAllowed ||
                            refusal->code == Code::kInvalidNumber || refusal->code == Code::kNoTrunk;
  const std::string_view pointer = about_target ? "/to" : refusal->code == Code::kInvalidField ? "/from" : "";
  return telnyx_error({422, "10015", "Bad Request", refusal->reason() + ".", pointer});
}

// ---------------------------------------------------------------------------------------------------
// Plivo

// A request id in the form of Plivo's api_id (a UUID, version 4).
std::string plivo_api_id() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) b.fill(0);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

HttpResponse plivo_error(int status, std::string_view error) {
  JsonWriter w;
  w.begin_object().field("api_id", plivo_api_id()).field("error", error).end_object();
  return HttpResponse::json(status, w.take());
}

HttpResponse plivo_hangup(Call* call, const CallRequest& req) {
  if (!call || call->agent().protocol != AgentProtocol::plivo || call->state() == CallState::kEnded)
    return plivo_error(404, "not found");
  const AgentConfig& agent = call->agent();
  if (!agent.api_key.empty() && !provider::basic_auth_matches(req.authorization, agent.account_id, agent.api_key)) {
    HttpResponse r = plivo_error(401, "Authentication failed");
    r.headers.push_back({"WWW-Authenticate", R"(Basic realm="Plivo")"});
    return r;
  }
  if (!agent.account_id.empty() && req.param("auth_id") != agent.account_id) return plivo_error(404, "not found");
  call->hangup("api_hangup");
  HttpResponse done = HttpResponse::text(204, "");
  done.content_type.clear();  // no body, so no type
  return done;
}

}  // namespace

void add_provider_routes(HttpRouter& router, CallLocator locate) {
  provider::add_twilio_routes(router, locate);
  provider::add_call_route(router, locate, "POST", "/v2/calls/{call_control_id}/actions/hangup", "call_control_id",
                           telnyx_hangup);
  provider::add_call_route(router, locate, "POST", "/v2/calls/{call_control_id}/actions/transfer", "call_control_id",
                           telnyx_transfer);
  provider::add_call_route(router, locate, "DELETE", "/v1/Account/{auth_id}/Call/{call_uuid}/", "call_uuid",
                           plivo_hangup);
}

}  // namespace warmline::server
