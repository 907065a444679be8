#include "server/http_router.hpp"

#include "server/json_writer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <stdexcept>

namespace warmline::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "/v1/calls/abc" -> {"v1", "calls", "abc"}; "/" -> {}. Empty segments ("//", trailing "/") are kept
// as empty strings so "/v1/calls/" does not match "/v1/calls".
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view HttpRequest::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  return HttpResponse{status, std::move(content_type), std::move(body), {}};
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.begin_object().key("error").begin_object().field("code", code).field("message", message).end_object().end_object();
  return json(status, w.take());
}

struct Responder::Core {
  std::unique_ptr<ResponseSink> sink;
  std::atomic<bool> answered{false};

  ~Core() {
    // The last copy went away unanswered: answer for the handler rather than leave the client hanging.
    if (!answered.load()) sink->deliver(HttpResponse::error(500, "internal_error", "the request was dropped without an answer"));
  }
};

Responder::Responder(std::unique_ptr<ResponseSink> sink) : core_(std::make_shared<Core>()) { core_->sink = std::move(sink); }

bool Responder::respond(HttpResponse response) const {
  if (core_->answered.exchange(true)) return false;
  core_->sink->deliver(std::move(response));
  return true;
}

bool Responder::answered() const { return core_->answered.load(); }

HttpRouter& HttpRouter::add(std::string method, std::string_view pattern, HttpHandler handler) {
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument(fmt::format("route '{}' must start with '/'", pattern));
  Route route{std::move(method), {}, std::move(handler)};
  const std::vector<std::string_view> parts = split_path(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view segment = parts[i];
    // A trailing '/' (Plivo's paths end in one) is an empty last segment, matched literally.
    if (segment.empty() && i + 1 == parts.size() && i > 0) {
      route.segments.push_back(Segment{});
      continue;
    }
    // "literal", "{name}" or "{name}suffix": braces nowhere else, a name inside them.
    const size_t close = segment.find('}');
    const bool param = segment.starts_with('{') && close != std::string_view::npos && close > 1;
    const std::string_view rest = param ? segment.substr(close + 1) : segment;
    const std::string_view name = param ? segment.substr(1, close - 1) : std::string_view();
    if (segment.empty() || rest.find_first_of("{}") != std::string_view::npos ||
        name.find_first_of("{}") != std::string_view::npos)
      throw std::invalid_argument(fmt::format("route '{}': bad segment '{}'", pattern, segment));
    route.segments.push_back(Segment{std::string(rest), std::string(name)});
  }
  routes_.push_back(std::move(route));
  return *this;
}

bool HttpRouter::match(const Route& route, const std::vector<std::string_view>& segments,
                       std::vector<std::pair<std::string, std::string>>& params) {
  if (route.segments.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& want = route.segments[i];
    const std::string_view got = segments[i];
    if (want.param.empty()) {
      if (want.text != got) return false;
      continue;
    }
    // The suffix is matched as sent (before percent-decoding), the value is what precedes it.
    if (got.size() <= want.text.size() || !got.ends_with(want.text)) return false;
    params.emplace_back(want.param, percent_decode(got.substr(0, got.size() - want.text.size())));
  }
  return true;
}

void HttpRouter::dispatch(HttpRequest& request, Responder responder) const {
  if (guard_) {
    if (auto refused = guard_(request)) return (void)responder(std::move(*refused));
  }
  const std::vector<std::string_view> segments = split_path(request.path);
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string_view> allowed;  // methods of routes whose path matched
  for (const Route& route : routes_) {
    if (!match(route, segments, params)) continue;
    if (route.method != request.method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
      continue;
    }
    request.params = std::move(params);
    try {
      route.handler(request, responder);
    } catch (const std::exception& e) {
      responder(HttpResponse::error(500, "internal_error", e.what()));
    }
    return;
  }
  if (allowed.empty()) {
    responder(HttpResponse::error(404, "not_found", fmt::format("no such resource: {}", request.path)));
    return;
  }
  const std::string allow = fmt::format("{}", fmt::join(allowed, ", "));
  HttpResponse r = HttpResponse::error(405, "method_not_allowed", fmt::format("{} is not allowed here (allowed: {})", request.method, allow));
  r.headers.push_back({"Allow", allow});
  responder(std::move(r));
}

}  // namespace warmline::server
