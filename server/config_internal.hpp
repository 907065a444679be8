// Shared by the config loader's two passes (config_schema.cpp reads TOML into structs and checks each
// value; config_validate.cpp checks references between sections). Not part of the public API.
#pragma once

#include "server/config.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::server::config_detail {

// Collects every problem; remembers the line of every key path it has seen, so the second pass (which
// only has structs) can still point at the right line.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void add(int line, std::string key_path, std::string message);
  // Uses the remembered line of `key_path`, or of its nearest known parent.
  void add_at(const std::string& key_path, std::string message);
  void remember(const std::string& key_path, int line) { lines_[key_path] = line; }
  int line_of(std::string key_path) const;

  const std::string& file() const { return file_; }
  std::vector<ConfigError> take() { return std::move(errors_); }
  bool empty() const { return errors_.empty(); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::map<std::string, int, std::less<>> lines_;
};

// Value parsers. Each returns an empty string on success, else what is wrong (for the message).
std::string parse_listen_address(std::string_view text, ListenAddress& out);
std::string parse_host_port(std::string_view text, HostPort& out);
std::string parse_port_range(std::string_view text, PortRange& out);
std::string parse_cidr(std::string_view text, Cidr& out);
std::string check_ws_url(std::string_view text);
// ws://, wss://, or a SIP agent's sip:/sips: URI (a host, no tel:).
std::string check_agent_url(std::string_view text);
std::string check_target_uri(std::string_view text);
std::string check_e164(std::string_view text);
// A trunk's tech_prefix: up to 16 of 0-9, '*' and '#'.
std::string check_tech_prefix(std::string_view text);
std::string check_allow_pattern(std::string_view text);
std::string check_host(std::string_view text);
// [server] hep: "udp:HOST:PORT" (HOST a name or IP literal, [v6] bracketed) into `out`; "" = off.
// HEP over TCP or TLS is refused, not ignored.
std::string parse_hep_address(std::string_view text, HostPort& out);
// A DNS server: an IP address with an optional port ("192.0.2.53", "192.0.2.53:5353", "::1",
// "[2001:db8::53]:53"). Names are refused: the resolver would need a resolver to find it.
std::string check_dns_server(std::string_view text);
// The TLS certificate chain and private key load and belong together ("" when so); the message
// starts with "tls_key" when the key is at fault (config_tls.cpp).
std::string check_tls_pair(const std::string& cert_file, const std::string& key_file);
// A CA bundle to trust loads ("" when so).
std::string check_tls_ca(const std::string& ca_file);
// Inbound number/user part: E.164 or a SIP user token (RFC 3261 §25.1 `user`, without escapes).
std::string check_user_part(std::string_view text);
// PBX extension number: digits, '*' and '#'.
std::string check_extension_number(std::string_view text);
// Canonical codec name for a case-insensitive one ("pcmu" -> "PCMU"), or empty if unknown.
std::string canonical_codec(std::string_view name);

// Replaces `${NAME}` occurrences from `env`; a missing variable is an error (returned, `out` unset).
std::string expand_env(std::string_view text, const EnvLookup& env, std::string& out);

bool iequals(std::string_view a, std::string_view b);
// Keys close to `key` among `known` (edit distance <= 2), for "did you mean".
std::string closest_key(std::string_view key, const std::vector<std::string_view>& known);

// Cross-reference pass over a fully read Config (duplicate names, trunk references, numbers claimed
// twice, caller IDs a trunk does not allow, default_forward that resolves to nothing).
void validate_references(Config& config, Problems& problems);
// [server] http_token: the REST key of provider agents that have none (config_http.cpp).
void apply_http_token(Config& config, Problems& problems);
// Valid settings that are probably mistakes (LoadResult::warnings).
std::vector<ConfigError> warnings(const Config& config, const Problems& problems);

}  // namespace warmline::server::config_detail
