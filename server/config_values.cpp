// Value-level checks for the config loader: addresses, ranges, CIDRs, URLs, numbers, env secrets.
// Each parser returns "" on success or a message that completes "key.path: <message>".
#include "server/config_internal.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace warmline::server {

const ListenAddress* find_listen(const ServerConfig& server, Transport transport) {
  for (const ListenAddress& a : server.sip_listen)
    if (a.transport == transport) return &a;
  return nullptr;
}

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::udp: return "udp";
    case Transport::tcp: return "tcp";
    case Transport::tls: return "tls";
  }
  return "udp";
}

std::string_view to_string(AgentProtocol protocol) {
  switch (protocol) {
    case AgentProtocol::warmline: return "warmline";
    case AgentProtocol::twilio: return "twilio";
    case AgentProtocol::telnyx: return "telnyx";
    case AgentProtocol::plivo: return "plivo";
    case AgentProtocol::exotel: return "exotel";
    case AgentProtocol::vonage: return "vonage";
  }
  return "warmline";
}

unsigned dialect_sample_rate(AgentProtocol protocol) { return protocol == AgentProtocol::vonage ? 16000u : 8000u; }

IpAddress IpAddress::from_v4(const std::array<uint8_t, 4>& b) {
  IpAddress a;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

IpAddress IpAddress::from_v6(const std::array<uint8_t, 16>& b) {
  IpAddress a;
  a.v6 = true;
  a.bytes = b;
  return a;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return std::nullopt;  // longest IPv6 text form
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string format_config_error(const ConfigError& e) {
  std::string out = e.file;
  if (e.line > 0) out += fmt::format(":{}", e.line);
  out += ": ";
  if (!e.key_path.empty()) out += e.key_path + ": ";
  out += e.message;
  return out;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // read-only; the loader runs before any thread starts
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace warmline::server

namespace warmline::server::config_detail {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  if (!all_digits(s) || s.size() > 5) return std::nullopt;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

// RFC 1123 host name: labels of letters, digits and '-', not starting or ending with '-'.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

void Problems::add(int line, std::string key_path, std::string message) {
  errors_.push_back(ConfigError{file_, line, std::move(key_path), std::move(message)});
}

void Problems::add_at(const std::string& key_path, std::string message) {
  add(line_of(key_path), key_path, std::move(message));
}

int Problems::line_of(std::string key_path) const {
  // "agent[0].target[1].via" -> "agent[0].target[1]" -> "agent[0].target" -> "agent[0]" -> ...
  while (!key_path.empty()) {
    if (auto it = lines_.find(key_path); it != lines_.end()) return it->second;
    const size_t cut = key_path.find_last_of(".[");
    key_path.resize(cut == std::string::npos ? 0 : cut);
  }
  return 0;
}

std::string check_host(std::string_view text) {
  if (parse_ip_address(text) || is_hostname(text)) return "";
  return fmt::format("'{}' is not a host name or IP address", text);
}

std::string parse_host_port(std::string_view text, HostPort& out) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {  // [v6]:port
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return fmt::format("'{}' has an unclosed '['", text);
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return fmt::format("'{}' is not host[:port]", text);
    if (!rest.empty()) port = rest.substr(1);
    if (!parse_ip_address(host) || !parse_ip_address(host)->v6)
      return fmt::format("'{}' is not an IPv6 address", host);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return fmt::format("'{}' has an empty port", text);
  }  // else: a host alone, or a bare IPv6 address (which cannot carry a port without brackets)
  if (auto e = check_host(host); !e.empty()) return e;
  out.host = std::string(host);
  out.port = 0;
  if (!port.empty()) {
    auto p = parse_port(port);
    if (!p) return fmt::format("port '{}' is not a number from 1 to 65535", port);
    out.port = *p;
  }
  return "";
}

std::string parse_hep_address(std::string_view text, HostPort& out) {
  out = HostPort{};
  if (text.empty()) return "";
  const size_t colon = text.find(':');
  const std::string_view transport = colon == std::string_view::npos ? std::string_view() : text.substr(0, colon);
  if (iequals(transport, "tcp") || iequals(transport, "tls"))
    return fmt::format("'{}': HEP over {} is not supported; use udp:HOST:PORT", text, transport);
  if (!iequals(transport, "udp"))
    return fmt::format("'{}' is not udp:HOST:PORT (e.g. udp:10.0.0.5:9060)", text);
  HostPort hp;
  if (auto e = parse_host_port(text.substr(colon + 1), hp); !e.empty()) return e;
  if (hp.port == 0) return fmt::format("'{}' needs a port (e.g. udp:10.0.0.5:9060)", text);
  out = hp;
  return "";
}

std::string check_dns_server(std::string_view text) {
  HostPort hp;
  if (auto e = parse_host_port(text, hp); !e.empty()) return e;
  if (!parse_ip_address(hp.host))
    return fmt::format("'{}' is not an IP address (a DNS server is given by address, e.g. \"192.0.2.53\" or "
                       "\"[2001:db8::53]:5353\")", hp.host);
  if (text.back() == ':') return fmt::format("'{}' has an empty port", text);
  return "";
}

std::string parse_listen_address(std::string_view text, ListenAddress& out) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return fmt::format("'{}' is not transport:address:port (e.g. udp:127.0.0.1:5060)", text);
  const std::string_view transport = text.substr(0, colon);
  if (iequals(transport, "udp")) {
    out.transport = Transport::udp;
  } else if (iequals(transport, "tcp")) {
    out.transport = Transport::tcp;
  } else if (iequals(transport, "tls")) {
    out.transport = Transport::tls;
  } else {
    return fmt::format("unknown transport '{}' (udp, tcp or tls)", transport);
  }
  HostPort hp;
  if (auto e = parse_host_port(text.substr(colon + 1), hp); !e.empty()) return e;
  if (!parse_ip_address(hp.host)) return fmt::format("'{}' is not an IP address to listen on", hp.host);
  out.host = hp.host;
  out.port = hp.port != 0 ? hp.port : out.transport == Transport::tls ? 5061 : 5060;
  return "";
}

std::string parse_port_range(std::string_view text, PortRange& out) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return fmt::format("'{}' is not a range like \"20000-20999\"", text);
  auto first = parse_port(text.substr(0, dash));
  auto last = parse_port(text.substr(dash + 1));
  if (!first || !last) return fmt::format("'{}': ports must be numbers from 1 to 65535", text);
  if (*first > *last) return fmt::format("'{}': the first port is above the last", text);
  // Each call needs an RTP port and the RTCP port above it (RFC 3550 §11).
  if (*last - *first < 1) return fmt::format("'{}' holds fewer than 2 ports", text);
  out = PortRange{*first, *last};
  return "";
}

std::string parse_cidr(std::string_view text, Cidr& out) {
  const size_t slash = text.find('/');
  auto addr = parse_ip_address(text.substr(0, slash));
  if (!addr) return fmt::format("'{}' is not an IPv4 or IPv6 CIDR", text);
  const int max_len = addr->v6 ? 128 : 32;
  int len = max_len;
  if (slash != std::string_view::npos) {
    std::string_view l = text.substr(slash + 1);
    if (!all_digits(l) || l.size() > 3 || std::stoi(std::string(l)) > max_len)
      return fmt::format("'{}': prefix length must be 0 to {}", text, max_len);
    len = std::stoi(std::string(l));
  }
  for (int bit = len; bit < max_len; ++bit) {
    if (addr->bytes[bit / 8] & (0x80 >> (bit % 8)))
      return fmt::format("'{}' has host bits set after /{}", text, len);
  }
  out = Cidr{*addr, len, std::string(text)};
  return "";
}

std::string check_ws_url(std::string_view text) {
  std::string_view rest;
  if (text.starts_with("ws://")) rest = text.substr(5);
  else if (text.starts_with("wss://")) rest = text.substr(6);
  else return fmt::format("'{}' must start with ws:// or wss://", text);
  for (char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return fmt::format("'{}' contains a space or control character", text);
  const size_t end = rest.find_first_of("/?#");
  HostPort hp;
  if (auto e = parse_host_port(rest.substr(0, end), hp); !e.empty()) return "URL host: " + e;
  return "";
}

std::string check_tech_prefix(std::string_view text) {
  if (text.size() > 16) return "longer than 16 characters";
  for (char c : text)
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#')) return fmt::format("'{}' is not a digit, '*' or '#'", text);
  return {};
}

std::string check_e164(std::string_view text) {
  // ITU-T E.164: '+', a country code (never starting with 0), at most 15 digits in all. 8 as the
  // minimum rejects short codes and typos while keeping the shortest real national numbers.
  if (text.size() >= 2 && text[0] == '+' && all_digits(text.substr(1)) && text[1] != '0' &&
      text.size() - 1 >= 8 && text.size() - 1 <= 15)
    return "";
  return fmt::format("'{}' is not an E.164 number ('+' and 8 to 15 digits)", text);
}

std::string check_target_uri(std::string_view text) {
  const size_t colon = text.find(':');
  const std::string_view scheme = text.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (iequals(scheme, "tel")) {
    std::string_view number = text.substr(4);
    number = number.substr(0, number.find(';'));
    if (auto e = check_e164(number); !e.empty()) return "tel: URI: " + e;
    return "";
  }
  if (!iequals(scheme, "sip") && !iequals(scheme, "sips"))
    return fmt::format("'{}' must be a sip:, sips: or tel: URI", text);
  std::string_view rest = text.substr(colon + 1);
  rest = rest.substr(0, rest.find_first_of(";?"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    if (at == 0) return fmt::format("'{}' has an empty user part", text);
    rest = rest.substr(at + 1);
  }
  HostPort hp;
  if (auto e = parse_host_port(rest, hp); !e.empty()) return fmt::format("'{}': {}", text, e);
  return "";
}

std::string check_agent_url(std::string_view text) {
  if (text.starts_with("ws://") || text.starts_with("wss://")) return check_ws_url(text);
  if (!text.starts_with("sip:") && !text.starts_with("sips:"))
    return fmt::format("'{}' must start with ws://, wss://, sip: or sips:", text);
  for (char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return fmt::format("'{}' contains a space or control character", text);
  return check_target_uri(text);
}

std::string check_allow_pattern(std::string_view text) {
  const bool prefix = text.ends_with('*');
  std::string_view digits = text.substr(0, text.size() - (prefix ? 1 : 0));
  if (digits.size() < 2 || digits[0] != '+' || !all_digits(digits.substr(1)))
    return fmt::format("'{}' is not '+' and digits, optionally ending in '*' (e.g. \"+2711*\")", text);
  if (!prefix) return check_e164(digits);
  if (digits.size() - 1 > 15) return fmt::format("'{}' is longer than an E.164 number", text);
  return "";
}

std::string check_user_part(std::string_view text) {
  if (text.empty()) return "an empty number";
  if (text[0] == '+') return check_e164(text);
  // RFC 3261 §25.1 user = unreserved / user-unreserved, no escapes.
  constexpr std::string_view kExtra = "-_.!~*'()&=+$,;?/";
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && kExtra.find(c) == std::string_view::npos)
      return fmt::format("'{}' is not a number or SIP user name", text);
  return "";
}

std::string check_extension_number(std::string_view text) {
  if (!text.empty() && text.size() <= 32 &&
      std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#'; }))
    return "";
  return fmt::format("'{}' is not an extension number (digits, '*' and '#')", text);
}

std::string canonical_codec(std::string_view name) {
  for (std::string_view known : {"PCMU", "PCMA", "G722", "opus"})
    if (iequals(name, known)) return std::string(known);
  return "";
}

std::string expand_env(std::string_view text, const EnvLookup& env, std::string& out) {
  std::string result;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("${", pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find('}', open);
    if (close == std::string_view::npos) return "unterminated ${...}";
    const std::string name(text.substr(open + 2, close - open - 2));
    const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
        std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!valid) return fmt::format("'${{{}}}' is not an environment variable name", name);
    auto value = env ? env(name) : std::nullopt;
    if (!value) return fmt::format("environment variable {} is not set", name);
    result.append(text.substr(pos, open - pos)).append(*value);
    pos = close + 1;
  }
  result.append(text.substr(pos));
  out = std::move(result);
  return "";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string closest_key(std::string_view key, const std::vector<std::string_view>& known) {
  // Optimal string alignment distance (Levenshtein plus adjacent transpositions, so "tragets" is 2
  // from "target"); keys are short, so the full table is a few hundred cells.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  std::string best;
  size_t best_distance = 3;
  for (std::string_view k : known) {
    const size_t d = distance(key, k);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(k);
    }
  }
  return best;
}

}  // namespace warmline::server::config_detail
