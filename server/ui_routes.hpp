// The live-calls page (/ui, docs/http-api.md "Live calls page") and the SIP ladder's JSON.
//
// The page is conf/ui/{index.html,app.js,style.css}, compiled into the binary (cmake/embed_ui.cmake):
// nothing to install or build on the machine. It is open (no token), under a Content-Security-Policy
// that allows only its own script and style; the page's fetches to /v1 carry the token the user types
// in (kept in sessionStorage), so with [server] http_token set the calls are still only for who has it.
#pragma once

#include <string>
#include <string_view>

#include "server/http_router.hpp"
#include "server/sip_ladder.hpp"

namespace warmline::server {

// GET /ui, /ui/, /ui/app.js, /ui/style.css.
void add_ui_routes(HttpRouter& router);

// {"call_id":..., "dropped":N, "legs":[{"leg":"a","sip_call_id":...}], "entries":[{"at":..., "leg":"a",
//  "direction":"in"|"out", "first_line":..., "cseq":N, "cseq_method":..., "detail":...}]}
std::string ladder_json(std::string_view call_id, const SipLadder& ladder);

// The embedded files (generated from conf/ui by cmake/embed_ui.cmake).
struct UiFile {
  std::string_view name;  // "index.html"
  std::string_view content_type;
  std::string_view body;
};
extern const UiFile kUiFiles[];
extern const size_t kUiFileCount;

}  // namespace warmline::server
