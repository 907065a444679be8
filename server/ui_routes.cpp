#include "server/ui_routes.hpp"

#include "server/cdr/call_record.hpp"
#include "server/json_writer.hpp"

namespace warmline::server {

namespace {

// Only the page's own files: no inline script or style (a SIP header shown on the page can never run),
// no framing, no other origin to fetch from.
constexpr std::string_view kUiPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

HttpResponse ui_file(const UiFile& f) {
  HttpResponse r = HttpResponse::text(200, std::string(f.body), std::string(f.content_type));
  r.headers.push_back({"Content-Security-Policy", std::string(kUiPolicy)});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

const UiFile& find_file(std::string_view name) {
  for (size_t i = 0; i < kUiFileCount; ++i)
    if (kUiFiles[i].name == name) return kUiFiles[i];
  return kUiFiles[0];  // index.html; every name asked for below is embedded (cmake/embed_ui.cmake)
}

}  // namespace

void add_ui_routes(HttpRouter& router) {
  for (const std::string_view path : {"/ui", "/ui/"})
    router.get(path, [](const HttpRequest&, Responder respond) { respond(ui_file(find_file("index.html"))); });
  for (const std::string_view name : {"app.js", "style.css"}) {
    const UiFile& f = find_file(name);
    router.get("/ui/" + std::string(name), [&f](const HttpRequest&, Responder respond) { respond(ui_file(f)); });
  }
}

std::string ladder_json(std::string_view call_id, const SipLadder& ladder) {
  JsonWriter w;
  w.begin_object().field("call_id", call_id).field("dropped", ladder.dropped()).key("legs").begin_array();
  for (const auto& [sip_call_id, leg] : ladder.legs())
    w.begin_object().field("leg", leg).field("sip_call_id", sip_call_id).end_object();
  w.end_array().key("entries").begin_array();
  for (const LadderEntry& e : ladder.entries()) {
    w.begin_object()
        .field("at", format_record_time(e.at))
        .field("leg", e.leg)
        .field("direction", e.outgoing ? "out" : "in")
        .field("first_line", e.first_line)
        .field("cseq", e.cseq)
        .field("cseq_method", e.cseq_method)
        .field("detail", e.detail)
        .end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace warmline::server
