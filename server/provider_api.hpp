// The REST call-control calls that bots written for a telephony provider make, served on warmline's
// HTTP API under the providers' own paths, so that moving a bot to warmline changes only its API base
// URL (DESIGN.md "AI WebSocket — provider dialects"; docs/http-api.md "Provider REST paths"):
//   Twilio  POST   /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json    Status=completed, Twiml=...
//                                                                             (provider_twilio.cpp)
//   Telnyx  POST   /v2/calls/{call_control_id}/actions/hangup | .../transfer  (provider_api.cpp)
//   Plivo   DELETE /v1/Account/{auth_id}/Call/{call_uuid}/                    (provider_api.cpp)
// The call id in each path is warmline's own (each dialect puts it in the stream's start frame as
// callSid, call_control_id or callId). A path acts only on a call whose agent speaks that provider's
// protocol — for any other call it answers as the provider answers for a call it does not know — and,
// when the agent has an api_key, only for a request carrying the credentials the provider would want
// (Twilio, Plivo: HTTP Basic account_id:api_key; Telnyx: Bearer api_key). The account in a Twilio or
// Plivo path must be the agent's account_id (any, when none is configured). Answers and errors have
// the provider's JSON shapes.
//
// Thread: handlers run on the control thread and pass the work to the call's shard through a
// CallLocator; the call, its agent's credentials included, is only read there.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_router.hpp"

namespace warmline::server {

class Call;

// Runs `fn` on the shard of the live call `id` with that call, or with null — on any thread — when
// there is no such call. make_api_router's posts to the shard (api.cpp); tests run it in place.
using CallLocator = std::function<void(const std::string& id, std::function<void(Call*)> fn)>;

// Adds every provider's routes to `router`.
void add_provider_routes(HttpRouter& router, CallLocator locate);

namespace provider {

// What a provider handler reads of its request, copied for the trip to the call's shard.
struct CallRequest {
  std::string path;
  std::string body;
  std::string authorization;  // the Authorization header ("" when absent)
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> params;  // the path's parameters

  std::string_view param(std::string_view name) const;
};

// Answers a request about a call, on the call's shard (call: null when there is no such call).
using CallHandler = std::function<HttpResponse(Call* call, const CallRequest& request)>;

// Registers `method pattern`: the call named by path parameter `id_param` is located and `handler`
// answers on its shard.
void add_call_route(HttpRouter& router, const CallLocator& locate, std::string method, std::string_view pattern,
                    std::string id_param, CallHandler handler);

void add_twilio_routes(HttpRouter& router, const CallLocator& locate);  // provider_twilio.cpp

}  // namespace provider
}  // namespace warmline::server
