// HTTP API plumbing without Beast: requests, responses, the Responder a handler answers through (now or
// later), and the router that maps method + path pattern (`/v1/calls/{id}/transfer`,
// `/2010-04-01/Accounts/{account}/Calls/{sid}.json`) to handlers.
//
// Errors are always JSON `{"error":{"code":"...","message":"..."}}` (DESIGN.md "HTTP API").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warmline::server {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ... (as sent; methods are case-sensitive, RFC 9110 §9.1)
  std::string target;  // "/v1/calls/abc?verbose=1"
  std::string path;    // "/v1/calls/abc"
  std::string query;   // "verbose=1"
  std::vector<HttpHeader> headers;
  std::string body;
  std::string remote_address;
  std::vector<std::pair<std::string, std::string>> params;  // {id} values, percent-decoded

  std::string_view param(std::string_view name) const;   // "" if the pattern has no such parameter
  std::string_view header(std::string_view name) const;  // case-insensitive; "" if absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<HttpHeader> headers;  // extra headers (Allow, Retry-After, ...)

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // {"error":{"code":code,"message":message}}
  static HttpResponse error(int status, std::string_view code, std::string_view message);
};

// Where a Responder's answer goes. The HTTP server implements it; tests may too.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Called at most once per request, from whichever thread answered. The server's sink posts the
  // response to its io_context, so it is written on the connection's own thread.
  virtual void deliver(HttpResponse response) = 0;
};

// The handle a handler answers a request through. Cheap to copy and move; every copy answers the same
// request, and only the first answer counts (later ones return false). It may be called from any
// thread and at any time: if the connection has closed meanwhile the answer is dropped. If every copy
// is destroyed without answering, the client gets a 500, so a lost responder never hangs a client.
// Responders must not outlive the io_context the HTTP server runs on.
class Responder {
 public:
  explicit Responder(std::unique_ptr<ResponseSink> sink);

  bool operator()(HttpResponse response) const { return respond(std::move(response)); }
  bool respond(HttpResponse response) const;
  bool answered() const;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

// RFC 3986 §2.1 percent-decoding (path parameters, form fields); a malformed escape is kept as written.
std::string percent_decode(std::string_view s);

// The request is valid only during the call: copy what a deferred answer needs.
using HttpHandler = std::function<void(const HttpRequest& request, Responder responder)>;

class HttpRouter {
 public:
  // `pattern` is an absolute path whose segments are literals, `{name}` (one whole segment) or
  // `{name}suffix` (a parameter followed by a literal, `{sid}.json`: the segment must end with the
  // suffix, and the parameter is what comes before it, never empty). A pattern may end in '/': then
  // so must the path.
  // Registering an invalid pattern is a programming error (std::invalid_argument, at start-up).
  HttpRouter& add(std::string method, std::string_view pattern, HttpHandler handler);
  HttpRouter& get(std::string_view pattern, HttpHandler handler) { return add("GET", pattern, std::move(handler)); }
  HttpRouter& post(std::string_view pattern, HttpHandler handler) { return add("POST", pattern, std::move(handler)); }

  // Checked before any route (matched or not): a response refuses the request, nullopt lets it on.
  using Guard = std::function<std::optional<HttpResponse>(const HttpRequest& request)>;
  HttpRouter& guard(Guard g) {
    guard_ = std::move(g);
    return *this;
  }

  // Fills request.params and calls the matching handler; answers 404 (no such path) or 405 (path known,
  // method not: with `Allow`) itself. A handler that throws before answering gets a 500.
  void dispatch(HttpRequest& request, Responder responder) const;

 private:
  struct Segment {
    std::string text;    // a literal segment, or a parameter's literal suffix ("" for `{id}`)
    std::string param;   // the parameter's name; empty for a literal segment
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    HttpHandler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::vector<std::pair<std::string, std::string>>& params);

  std::vector<Route> routes_;
  Guard guard_;
};

}  // namespace warmline::server
