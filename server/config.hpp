// The gateway's configuration (DESIGN.md "Configuration"): plain structs, one per TOML section, and the
// loader that fills them.
//
// Every key has a default, so a file with only an [[agent]] works. load_config() reports every problem
// it finds, not the first, each with its line and key path (`agent[0].target[1].via`), because an
// operator fixing a file one error per run is the thing check-config exists to avoid.
//
// Values are validated where they enter: once a Config is returned, addresses, port ranges, CIDRs, URLs,
// E.164 numbers and cross references (a target's `via`, a pbx's `trunk`) are known good, so the runtime
// never re-checks them.
//
// Values the build cannot honour yet (a second listen address, wss://, protocol twilio, a PostgreSQL
// URL for call records) are refused with "not available in this build: ...": the fields stay so the
// issues that build those features only delete the check (docs/configuration.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::server {

enum class Transport { udp, tcp, tls };
std::string_view to_string(Transport transport);

// An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3].
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  static IpAddress from_v4(const std::array<uint8_t, 4>& b);
  static IpAddress from_v6(const std::array<uint8_t, 16>& b);
  bool operator==(const IpAddress&) const = default;
};
// "127.0.0.1", "::1", "[::1]". nullopt for anything else.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// "10.0.0.0/8", "2001:db8::/32"; a bare address means /32 or /128.
struct Cidr {
  IpAddress network;
  int prefix_len = 0;
  std::string text;  // as written in the file, for messages
};

// `udp:127.0.0.1:5060`, `udp:[::1]:5060`, `tcp:127.0.0.1:5060`, `tls:127.0.0.1:5061`. The loader
// takes one address per transport, and a UDP one is required (docs/configuration.md).
struct ListenAddress {
  Transport transport = Transport::udp;
  std::string host = "127.0.0.1";  // IPv6 without brackets
  uint16_t port = 5060;
};

struct HostPort {
  std::string host;  // name or address; IPv6 without brackets
  uint16_t port = 0;  // 0 = not given (the protocol's default applies)
};

struct PortRange {
  uint16_t first = 20000;
  uint16_t last = 20999;
};

struct ServerConfig {
  std::vector<ListenAddress> sip_listen{ListenAddress{}};
  std::string public_address;  // empty: advertise the listen address
  // A tls: listener's certificate chain and private key (PEM files, relative to the config file).
  std::string tls_cert;
  std::string tls_key;
  // A TCP or TLS connection that carries no bytes either way for this long is closed (1..86400).
  unsigned sip_idle_timeout_s = 300;
  HostPort http{"127.0.0.1", 8080};
  // When set, every /v1/* request needs `Authorization: Bearer <http_token>` (docs/http-api.md), and
  // the provider REST paths of an agent without its own api_key take it as that key. /healthz,
  // /readyz and /metrics stay open.
  std::string http_token;
  PortRange rtp_ports;
  unsigned shards = 0;  // 0 = one per core
  // Call records: a SQLite file, resolved against the config file's folder; "" = no records.
  std::string cdr = "warmline-cdr.sqlite";
  // Call recordings (docs/recording.md): one stereo WAV per recorded call, named <call id>.wav, in
  // this folder; resolved against the config file's folder like cdr, created when missing.
  std::string recording_dir = "recordings";
  unsigned drain_timeout_s = 60;
  std::string log_level = "info";  // trace|debug|info|warn|error|critical|off (spdlog names)
  // Overload and drain (docs/operations.md). A new INVITE beyond max_calls live calls, or while the
  // node drains, is answered 503 with `Retry-After: retry_after_s`; OPTIONS answers 503 the same way
  // while draining, so a dispatcher (Kamailio) stops sending calls here.
  unsigned max_calls = 0;  // 0 = unlimited
  // New INVITEs a second from one source address (a token bucket, bursts up to the same number);
  // beyond it 503 + Retry-After. 0 = no limit.
  unsigned invite_rate_per_source = 0;
  bool drain_exit = false;  // after a drain requested by the API: exit 0 once idle (true) or stay up not ready
  unsigned retry_after_s = 5;  // 1..3600
  // DNS servers for RFC 3263 resolution of sip:/sips: targets (sip/resolve/): "ip", "ip:port" or
  // "[ipv6]:port", validated; empty = the system's /etc/resolv.conf.
  std::vector<std::string> dns_servers;
  // SIP trace to a Homer collector over HEP v3 (docs/operations.md "SIP trace (Homer)"): "udp:HOST:PORT"
  // read into hep (a name is resolved at start); host "" = off. hep_id is the capture agent id, and
  // hep_password the collector's authentication key ("" = none; "${VAR}" reads it from the environment).
  HostPort hep;
  uint32_t hep_id = 2001;
  std::string hep_password;
};

enum class Ringback { us, etsi, uk };

enum class RtpIo { batched, plain };

struct MediaConfig {
  std::vector<std::string> codecs{"PCMU", "PCMA"};  // canonical names: PCMU, PCMA, G722, opus
  // Audio file (WAV, FLAC, ...: what libsndfile reads) for callers on hold, resolved against the config
  // file's folder and checked to be playable; "" = the shipped conf/audio/hold-music.wav.
  std::string hold_music;
  std::string tts_voice = "en-us";  // espeak-ng voice
  Ringback ringback = Ringback::us;
  // How each shard moves RTP: batched (its own epoll + recvmmsg in, io_uring batches out; rtp/media_io)
  // or plain (one Asio receive and one sendto per packet).
  RtpIo rtp_io = RtpIo::batched;
  // The 20 ms media period is cut into this many slots (1..20); each call's frames leave in its own
  // slot, so a shard never sends all of its calls' packets at once. 1 = one pass per period.
  unsigned tick_slots = 20;
};

// What a new call hears while the agent connects (RFC 3261 §13.3.1.1): 180 Ringing (the caller's
// side plays ringback), 183 Session Progress with the SDP answer (early media: carriers that cut calls
// without early media, or that bill from it, need this), or nothing but the 100 Trying.
enum class Provisional { ringing, session_progress, none };

// How a trunk wants numbers in the Request-URI: "+27115550100" (e164) or "27115550100" (no_plus).
enum class NumberFormat { e164, no_plus };

// SRTP (RFC 3711, keyed by SDES RFC 4568) on the calls of a trunk: off = plain RTP only; optional =
// SRTP when the peer offers it (RTP/SAVP), plain otherwise; required = SRTP or 488 (our own offers
// are RTP/SAVP). Applies to the caller's leg from this trunk and to legs we place through it.
enum class SrtpPolicy { off, optional, required };

struct TrunkConfig {
  std::string name;
  HostPort address;  // host empty: inbound only
  Transport transport = Transport::udp;
  std::vector<Cidr> source_cidrs;
  bool accepts_refer = false;
  // We act on a REFER this peer sends inside a call (RFC 3515, warmline as the transferee): a leg we
  // placed through it may transfer the caller to a configured target (server/transfer/refer_in.hpp).
  bool accepts_refer_from_peer = false;
  Provisional provisional = Provisional::ringing;  // TOML `provisional`: "180" | "183" | "none"
  std::string username;  // digest credentials for the calls we place through it (401/407 answered)
  std::string password;
  std::vector<std::string> caller_ids;  // E.164 numbers we may present through this trunk
  NumberFormat number_format = NumberFormat::e164;
  std::string tech_prefix;  // digits put before every number dialled through it ("" = none)
  // TOML key `register`: keep a binding at the trunk (REGISTER to `address` as `username`, with digest);
  // needs address, username and password. register_expires_s is the expiry asked for (60..86400).
  bool register_ = false;
  unsigned register_expires_s = 3600;
  // OPTIONS to each server of `address` every ping_interval_s seconds (5..3600), for the trunk's up/down
  // state (trunk_pings.hpp); 0: no pings. Needs address.
  unsigned ping_interval_s = 0;
  SrtpPolicy srtp = SrtpPolicy::off;  // TOML `srtp`: "off" | "optional" | "required"
  // transport = "tls": check the trunk's certificate (against tls_ca, else the system's CAs, and its
  // name against the address's host). tls_verify = false skips it (labs only).
  bool tls_verify = true;
  std::string tls_ca;  // PEM file of the CA(s) to trust for this trunk; "" = the system's
  // RFC 4028 session timer of the dialogs through this trunk (the caller's leg of a call it sends us, a
  // leg we place through it): the Session-Expires we ask for, seconds; 0 = none asked for (a peer's own
  // request is still honoured). 90 (the RFC's Min-SE floor) to 86400.
  unsigned session_timer_s = 1800;
  // RFC 4028 Min-SE: the shortest session interval warmline accepts from this trunk's peers (a shorter
  // Session-Expires gets 422 with it) and asks for in what it sends them; 90 (the RFC's floor) to 86400.
  unsigned session_min_se_s = 90;
  // The codecs offered to a leg dialled through this trunk, in this order (canonical names, each one of
  // [media] codecs); empty: the caller's codec first, then [media] codecs. An AI platform that takes
  // only Opus gets ["opus"] (docs/sip.md "SIP agents").
  std::vector<std::string> codecs;
};

// The listen address for this transport, or null.
const ListenAddress* find_listen(const ServerConfig& server, Transport transport);

enum class ExtensionKind { extension, queue, ring_group };

struct ExtensionConfig {
  std::string number;  // digits, '*', '#'
  std::string name;
  std::vector<std::string> aliases;
  ExtensionKind kind = ExtensionKind::extension;
};

struct PbxConfig {
  std::string name;
  std::string domain;  // host[:port] of the extensions' URIs: sip:<number>@<domain>
  std::string trunk;   // the trunk that reaches this PBX (validated)
  std::vector<ExtensionConfig> extensions;  // TOML [[pbx.extension]]
};

// The agent socket's protocol: warmline's own, or a provider's media-stream dialect (docs/agent-protocols.md).
enum class AgentProtocol { warmline, twilio, telnyx, plivo, exotel, vonage };
std::string_view to_string(AgentProtocol protocol);
// The fixed audio rate of a provider dialect: 8000 (Twilio, Telnyx, Plivo, Exotel) or 16000 (Vonage).
unsigned dialect_sample_rate(AgentProtocol protocol);
enum class OnFailure { agent, default_forward };
// What a cold transfer does when the caller's side refuses the REFER or never reports a final result.
enum class ReferFallback { dial, agent };
// What a REFER received in one of the agent's calls starts when it does not say (X-Warmline-Transfer,
// docs/sip.md "Warm transfers a SIP agent asks for"): a cold bridged dial, or a warm transfer.
enum class ReferInMode { cold, warm };

struct TargetConfig {
  std::string name;
  std::vector<std::string> aliases;
  std::string uri;  // sip:, sips: or tel:
  std::string via;  // trunk name; empty for a sip(s): target = send to the URI's host directly
  std::string caller_id;  // E.164; empty = the agent's caller_id
  unsigned ring_timeout_s = 0;  // 0 = the agent's
};

// The Min-SE of legs through `trunk` (RFC 4028's 90 s without a trunk).
inline uint32_t session_min_se(const TrunkConfig* trunk) { return trunk ? trunk->session_min_se_s : 90; }

struct AgentConfig {
  std::string name;
  std::vector<std::string> numbers;  // inbound Request-URI user parts routed to this agent
  // ws:// (wss:// is refused: not implemented yet), or a SIP agent's sip:/sips: URI (is_sip_agent): the
  // AI is called over SIP through `trunk` and bridged to the caller (docs/sip.md "SIP agents").
  std::string url;
  std::string token;  // bearer token (may come from ${ENV})
  AgentProtocol protocol = AgentProtocol::warmline;
  unsigned sample_rate = 16000;  // 8000|16000|24000 (native); each dialect has its own fixed rate
  // Provider dialects only. account_id: the account named in the stream's start frame and in the REST
  // paths (Twilio AccountSid, Plivo auth_id, Exotel account_sid). api_key: when set, the REST
  // call-control paths for this agent's calls need it (Twilio/Plivo: HTTP Basic account_id:api_key;
  // Telnyx: Bearer api_key). parameters ([agent.parameters]): values passed in the start frame
  // (Twilio customParameters and the like), sorted by name.
  std::string account_id;
  std::string api_key;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::vector<TargetConfig> targets;  // TOML [[agent.target]]
  std::vector<std::string> allow_patterns;  // "+2711*" (prefix) or "+27115550100" (exact)
  std::string trunk;  // trunk for dialled numbers; defaults to the first trunk
  std::string caller_id;  // E.164 presented on numbers dialled for this agent
  std::string default_forward;  // a target name, extension or E.164 number
  std::string fallback_message = "Sorry, I could not transfer your call. Please try again later.";
  unsigned refer_timeout_s = 30;
  OnFailure on_failure = OnFailure::agent;
  ReferFallback refer_fallback = ReferFallback::dial;
  ReferInMode refer_in_mode = ReferInMode::cold;
  unsigned ring_timeout_s = 30;  // a dialled target's ring time unless the target or the request sets one
  bool decline_is_final = true;  // 603 Decline ends a chain
  unsigned stall_timeout_s = 5;  // a write to the agent's socket waiting this long: the agent is lost
  bool record = false;  // every call of this agent is recorded ([server] recording_dir)
};

// An agent reached over SIP (url sip: or sips:) instead of a WebSocket.
inline bool is_sip_agent(const AgentConfig& agent) {
  return agent.url.starts_with("sip:") || agent.url.starts_with("sips:");
}
// [webhooks] (docs/webhooks.md): call and transfer events POSTed to `url`, signed with `secret`
// (HMAC-SHA256), off the shards. url "" = off.
struct WebhooksConfig {
  std::string url;                  // http:// or https://
  std::string secret;               // required with url; use "${ENV_VAR}"
  std::vector<std::string> events;  // a subset of the event types; empty = all
  unsigned timeout_s = 10;          // one POST: connect, TLS, request and answer (1..300)
  unsigned max_queue = 10000;       // events waiting; beyond it the oldest is dropped (1..1000000)
  unsigned max_attempts = 8;        // tries of one event before it is given up (1..30)
  bool tls_verify = true;           // https: check the server's certificate and name
};

struct Config {
  ServerConfig server;
  MediaConfig media;
  std::vector<TrunkConfig> trunks;
  std::vector<PbxConfig> pbxs;
  std::vector<AgentConfig> agents;
  WebhooksConfig webhooks;
};

// One problem in a config file. line 0 = not tied to a line (the file could not be read).
struct ConfigError {
  std::string file;
  int line = 0;
  std::string key_path;  // "agent[0].target[1].via"; empty for syntax errors
  std::string message;
};
// `FILE:LINE: key.path: what is wrong` (parts that are empty are left out).
std::string format_config_error(const ConfigError& error);

struct LoadResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
  // A valid file that is probably a mistake (e.g. the HTTP API listening beyond loopback without
  // http_token): printed by check-config and logged at start, never fatal.
  std::vector<ConfigError> warnings;
  bool ok() const { return config.has_value(); }
};

// Looks up `${NAME}` secrets. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

LoadResult load_config(const std::string& path, const EnvLookup& env = process_environment());
// Same, from text already in memory (`source_name` is used in messages and to resolve relative paths).
LoadResult load_config_text(std::string_view text, const std::string& source_name,
                            const EnvLookup& env = process_environment());

}  // namespace warmline::server
