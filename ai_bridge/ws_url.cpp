// URL parsing and names for AgentConnection; no Beast here, so it compiles fast and tests alone.
#include <algorithm>
#include <cctype>

#include "ai_bridge/ws_client.hpp"

namespace warmline::ai {
namespace {

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return false;
  }
  const int n = std::stoi(std::string(port));
  return n > 0 && n <= 65535;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [](char p, char c) { return std::tolower(static_cast<unsigned char>(c)) == p; });
}

}  // namespace

std::optional<WsUrl> parse_ws_url(std::string_view url) {
  WsUrl out;
  if (starts_with_nocase(url, "ws://")) {
    url.remove_prefix(5);
  } else if (starts_with_nocase(url, "wss://")) {
    url.remove_prefix(6);
    out.secure = true;
  } else {
    return std::nullopt;
  }
  const std::size_t path_start = url.find_first_of("/?");
  std::string_view authority = url.substr(0, path_start);
  const std::string_view target = path_start == std::string_view::npos ? "/" : url.substr(path_start);
  out.target = (target.front() == '?' ? "/" : "") + std::string(target);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo: use the token
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal, RFC 3986 §3.2.2
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return std::nullopt;
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty() && !valid_port(port)) return std::nullopt;
  out.port = port.empty() ? (out.secure ? "443" : "80") : std::string(port);
  return out;
}

std::string_view to_string(CloseReason::Kind kind) {
  switch (kind) {
    case CloseReason::Kind::kLocal: return "local";
    case CloseReason::Kind::kRemote: return "remote";
    case CloseReason::Kind::kInvalidUrl: return "invalid_url";
    case CloseReason::Kind::kConnectFailed: return "connect_failed";
    case CloseReason::Kind::kHandshakeFailed: return "handshake_failed";
    case CloseReason::Kind::kTimeout: return "timeout";
    case CloseReason::Kind::kStuck: return "stuck";
    case CloseReason::Kind::kError: return "error";
  }
  return "error";
}

}  // namespace warmline::ai
