// Twilio's call update on warmline (provider_api.hpp): POST /2010-04-01/Accounts/{AccountSid}/Calls/
// {CallSid}.json, form-encoded, as Twilio's Call resource documents it
// (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
//   Status=completed|canceled   hangs the call up (Call::hangup, stop reason "api_hangup")
//   Twiml=<Response>...         runs the document's verbs in order (twiml.hpp -> call_script.hpp)
//   Url=...                     refused: warmline fetches no TwiML from anywhere
// and GET on the same path fetches the call resource.
// Other parameters are ignored, as Twilio ignores parameters it does not know. The answer is the call
// resource's JSON (sid, account_sid, status, from, to, direction, api_version, uri, dates, ...); errors
// are Twilio's {"code","message","more_info","status"} with Twilio's codes
// (https://www.twilio.com/docs/api/errors): 20404 not found, 20003 authenticate, 21220 invalid call
// state, 12100/12200 TwiML parse and schema errors, 13214 callerId, 13224 a target warmline will not
// dial, 13801 a REFER the call cannot take, 21200 a request the resource cannot serve.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

#include "server/call.hpp"
#include "server/json_writer.hpp"
#include "server/provider_api.hpp"
#include "server/provider_http.hpp"
#include "server/twiml.hpp"

namespace warmline::server::provider {

namespace {

constexpr std::string_view kApiVersion = "2010-04-01";

struct TwilioError {
  int status = 400;
  int code = 21200;
  std::string message;
};

HttpResponse twilio_error(const TwilioError& e) {
  JsonWriter w;
  w.begin_object()
      .field("code", e.code)
      .field("message", e.message)
      .field("more_info", fmt::format("https://www.twilio.com/docs/errors/{}", e.code))
      .field("status", e.status)
      .end_object();
  return HttpResponse::json(e.status, w.take());
}

HttpResponse not_found(const CallRequest& req) {
  return twilio_error({404, 20404, fmt::format("The requested resource {} was not found", req.path)});
}

// RFC 2822, in GMT, as Twilio writes its resources' dates: "Tue, 31 Aug 2010 20:36:28 +0000".
std::string rfc2822(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%a, %d %b %Y %H:%M:%S} +0000", std::chrono::floor<std::chrono::seconds>(t));
}

// The Call resource as Twilio's REST API returns it. `ended_at`: set once the call has ended (it then
// shows as completed, with its end time and duration in seconds).
HttpResponse call_resource(const CallSnapshot& s, std::string_view account,
                           std::optional<std::chrono::system_clock::time_point> ended_at) {
  const auto now = std::chrono::system_clock::now();
  const std::string status = ended_at ? "completed" : s.state == "ringing" ? "ringing" : "in-progress";
  JsonWriter w;
  w.begin_object().field("account_sid", account).key("annotation").null().key("answered_by").null()
      .field("api_version", kApiVersion).key("caller_name").null()
      .field("date_created", rfc2822(s.started_at)).field("date_updated", rfc2822(now))
      .field("direction", "inbound").key("duration");
  if (ended_at) w.value(std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*ended_at - s.started_at).count()));
  else w.null();
  w.key("end_time");
  if (ended_at) w.value(rfc2822(*ended_at));
  else w.null();
  w.key("forwarded_from").null().field("from", s.from).field("from_formatted", s.from).key("group_sid").null()
      .key("parent_call_sid").null().key("phone_number_sid").null().key("price").null().field("price_unit", "USD")
      .field("queue_time", "0").field("sid", s.id).field("start_time", rfc2822(s.started_at)).field("status", status)
      .field("to", s.to).field("to_formatted", s.to).key("trunk_sid").null()
      .field("uri", fmt::format("/{}/Accounts/{}/Calls/{}.json", kApiVersion, account, s.id))
      .end_object();
  return HttpResponse::json(200, w.take());
}

// A TwiML document as the script the call runs. Verbs after <Dial> or <Refer> are refused: on Twilio
// they run when the dialled call ends, but warmline gives a caller whose transfer failed back to the
// agent, and a bridged call ends when either side hangs up. Verbs after <Hangup> are never reached (on
// Twilio either). A document that runs out without <Hangup> ends the call, as on Twilio.
std::variant<std::vector<ScriptStep>, TwilioError> script_for(const std::vector<twiml::Verb>& verbs) {
  std::vector<ScriptStep> steps;
  for (size_t i = 0; i < verbs.size(); ++i) {
    const twiml::Verb& verb = verbs[i];
    const bool last = i + 1 == verbs.size();
    if (const auto* dial = std::get_if<twiml::Dial>(&verb)) {
      if (!last)
        return TwilioError{400, twiml::kSchemaViolation,
                           "<Dial> must be the last verb: warmline returns a caller whose transfer failed to the agent "
                           "(the result reaches the agent as a transfer event) and runs no verbs after it"};
      ScriptTransfer t;
      t.request.targets = {dial->target};
      t.request.ring_timeout_s = dial->timeout_s;
      t.caller_id = dial->caller_id;
      steps.emplace_back(std::move(t));
    } else if (const auto* refer = std::get_if<twiml::Refer>(&verb)) {
      if (!last)
        return TwilioError{400, twiml::kSchemaViolation, "<Refer> must be the last verb: warmline runs no verbs after it"};
      ScriptTransfer t;
      t.request.targets = {refer->sip_uri};
      t.refer_only = true;
      steps.emplace_back(std::move(t));
    } else if (const auto* say = std::get_if<twiml::Say>(&verb)) {
      for (int n = 0; n < say->loop; ++n) steps.emplace_back(ScriptSay{say->text});
    } else if (const auto* play = std::get_if<twiml::Play>(&verb)) {
      return TwilioError{400, twiml::kSchemaViolation,
                         play->url.empty() ? std::string("<Play digits> is not supported by warmline")
                                           : "<Play> is not supported by warmline: it fetches no audio from URLs and has "
                                             "no configured file for " + play->url.substr(0, 128)};
    } else if (const auto* pause = std::get_if<twiml::Pause>(&verb)) {
      steps.emplace_back(ScriptPause{std::chrono::seconds(pause->length_s)});
    } else if (std::holds_alternative<twiml::Hangup>(verb)) {
      steps.emplace_back(ScriptHangup{});
      return steps;
    }
  }
  if (steps.empty() || !std::holds_alternative<ScriptTransfer>(steps.back())) steps.emplace_back(ScriptHangup{});
  return steps;
}

TwilioError error_for(const TransferRefusal& r) {
  using Code = TransferRefusal::Code;
  switch (r.code) {
    case Code::kNotActive:
    case Code::kTransferInProgress:
      return {400, 21220, "Call is not in-progress. Cannot redirect: " + r.message};
    case Code::kUnknownTarget:
    case Code::kNumberNotAllowed:
    case Code::kInvalidNumber:
    case Code::kNoTrunk:
      return {400, 13224, "Dial: warmline will not call this target: " + r.reason()};
    case Code::kInvalidField:
      return {400, 13214, "Dial: Invalid callerId value: " + r.message};
    case Code::kNotSupported:
      if (r.message.find("REFER") != std::string::npos) return {400, 13801, "Refer not allowed on this call: " + r.message};
      return {400, twiml::kSchemaViolation, r.message};
    case Code::kMissingField:
      break;
  }
  return {400, twiml::kSchemaViolation, r.reason()};
}

bool is_form(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  return lower.empty() || lower == "application/x-www-form-urlencoded";
}

// Nothing, if `call` is a live call of a Twilio agent that the request may see; else the answer.
std::optional<HttpResponse> check_call(Call* call, const CallRequest& req) {
  if (!call || call->agent().protocol != AgentProtocol::twilio || call->state() == CallState::kEnded)
    return not_found(req);
  const AgentConfig& agent = call->agent();
  if (!agent.api_key.empty() && !basic_auth_matches(req.authorization, agent.account_id, agent.api_key)) {
    HttpResponse r = twilio_error({401, 20003, "Authenticate"});
    r.headers.push_back({"WWW-Authenticate", R"(Basic realm="Twilio API")"});
    return r;
  }
  if (!agent.account_id.empty() && req.param("AccountSid") != agent.account_id) return not_found(req);
  return std::nullopt;
}

HttpResponse fetch_call(Call* call, const CallRequest& req) {
  if (auto answer = check_call(call, req)) return std::move(*answer);
  return call_resource(call->snapshot(), req.param("AccountSid"), std::nullopt);
}

HttpResponse update_call(Call* call, const CallRequest& req) {
  if (auto answer = check_call(call, req)) return std::move(*answer);
  const std::string_view account = req.param("AccountSid");
  if (!is_form(req.content_type))
    return twilio_error({400, 21200, "the body must be application/x-www-form-urlencoded, not " + req.content_type.substr(0, 64)});
  const auto form = parse_form(req.body);
  if (!form) return twilio_error({400, 21200, fmt::format("more than {} parameters", kMaxFormFields)});

  if (const auto status = form_value(*form, "Status")) {
    if (*status != "completed" && *status != "canceled")
      return twilio_error({400, 21200, "Status must be completed or canceled, not " + std::string(status->substr(0, 32))});
    CallSnapshot before = call->snapshot();
    call->hangup("api_hangup");
    return call_resource(before, account, std::chrono::system_clock::now());
  }
  if (form_value(*form, "Url"))
    return twilio_error({400, 21200, "warmline does not fetch TwiML from a Url; send the document itself as Twiml"});
  if (const auto document = form_value(*form, "Twiml")) {
    auto verbs = twiml::parse(*document);
    if (const auto* e = std::get_if<twiml::Error>(&verbs)) return twilio_error({400, e->code, e->message});
    auto steps = script_for(std::get<std::vector<twiml::Verb>>(verbs));
    if (const auto* e = std::get_if<TwilioError>(&steps)) return twilio_error(*e);
    if (auto refusal = call->run_script(std::get<std::vector<ScriptStep>>(std::move(steps))))
      return twilio_error(error_for(*refusal));
    if (call->state() == CallState::kEnded) return call_resource(call->snapshot(), account, std::chrono::system_clock::now());
  }
  return call_resource(call->snapshot(), account, std::nullopt);
}

}  // namespace

void add_twilio_routes(HttpRouter& router, const CallLocator& locate) {
  constexpr std::string_view kCall = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json";
  add_call_route(router, locate, "POST", kCall, "CallSid", update_call);
  add_call_route(router, locate, "GET", kCall, "CallSid", fetch_call);
}

}  // namespace warmline::server::provider
