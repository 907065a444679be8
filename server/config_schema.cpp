// First pass of the config loader: walks the TOML tree with toml++, fills the structs and checks each
// value where it is read, so every problem carries the line of the node that caused it. Keys that no
// reader asked for are reported as unknown, at every level.
#include "server/cdr/postgres_cdr_store.hpp"
#include "server/config_internal.hpp"
#include "server/config_section.hpp"
#include "server/leg/hold_music.hpp"
#include "server/recording/recording_writer.hpp"
#include "server/webhook/webhook_event.hpp"
#include "server/webhook/webhook_http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <toml++/toml.h>

namespace warmline::server {
namespace {
using namespace config_schema;

// "" when libpq can parse `url`, else its message ("invalid URI query parameter ...").
std::string check_database_url(const std::string& url) {
  std::string error;
  if (PostgresCdrStore::open(url, error, /*connect_now=*/false)) return "";
  return fmt::format("not a PostgreSQL connection URL: {}", error);
}


// A relative path in the file is relative to the file's folder, so `warmline --config /etc/x.toml`
// works from any working directory.
std::string resolve_path(const Context& ctx, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (ctx.base_dir / p).lexically_normal().string();
}

void read_server(Section& s, ServerConfig& out) {
  std::vector<std::string> listen;
  if (s.string_list("sip_listen", listen)) {
    out.sip_listen.clear();
    for (size_t i = 0; i < listen.size(); ++i) {
      ListenAddress a;
      const std::string where = fmt::format("{}[{}]", s.path("sip_listen"), i);
      if (auto e = config_detail::parse_listen_address(listen[i], a); !e.empty()) {
        s.problems().add_at(where, e);
        continue;
      }
      if (find_listen(out, a.transport))
        s.problems().add_at(where, unavailable(fmt::format("a second {} address", to_string(a.transport)), "keep one per transport"));
      else out.sip_listen.push_back(a);
    }
    if (listen.empty()) s.problems().add_at(s.path("sip_listen"), "needs at least one address");
    else if (!find_listen(out, Transport::udp) && !out.sip_listen.empty())
      s.problems().add_at(s.path("sip_listen"), "needs a udp: address (TCP and TLS listen beside UDP, not instead of it)");
  }
  // A tls: listener needs its certificate and key; both must load (check-config reports a bad file here).
  const bool tls_listen = find_listen(out, Transport::tls) != nullptr;
  const bool has_cert = s.string("tls_cert", out.tls_cert);
  const bool has_key = s.string("tls_key", out.tls_key);
  if (has_cert) out.tls_cert = resolve_path(s.context(), out.tls_cert);
  if (has_key) out.tls_key = resolve_path(s.context(), out.tls_key);
  if (tls_listen && out.tls_cert.empty())
    s.problems().add_at(s.path("sip_listen"), "a tls: address needs [server] tls_cert (the certificate chain, PEM)");
  if (tls_listen && out.tls_key.empty())
    s.problems().add_at(s.path("sip_listen"), "a tls: address needs [server] tls_key (the private key, PEM)");
  if (!out.tls_cert.empty() && !out.tls_key.empty()) {
    if (auto e = config_detail::check_tls_pair(out.tls_cert, out.tls_key); !e.empty())
      s.problems().add_at(s.path(e.starts_with("tls_key") ? "tls_key" : "tls_cert"), e);
  }
  s.integer("sip_idle_timeout_s", out.sip_idle_timeout_s, 1, 86400);
  s.string("public_address", out.public_address, [](std::string_view text) {
    return text.empty() ? std::string() : config_detail::check_host(text);  // empty: the listen address
  });
  std::string text;
  if (s.string("http", text)) {
    auto e = config_detail::parse_host_port(text, out.http);
    if (e.empty() && (!parse_ip_address(out.http.host) || out.http.port == 0))
      e = fmt::format("'{}' is not an IP address and port to listen on (e.g. 127.0.0.1:8080)", text);
    if (!e.empty()) s.problems().add_at(s.path("http"), e);
  }
  s.string("http_token", out.http_token);
  if (s.string("rtp_ports", text)) {
    if (auto e = config_detail::parse_port_range(text, out.rtp_ports); !e.empty()) s.problems().add_at(s.path("rtp_ports"), e);
  }
  s.integer("shards", out.shards, 0, 1024);
  // A SQLite file (relative to the config file's folder, resolved in read_root), a PostgreSQL URL
  // (libpq's connection URI; checked here for syntax only, the database may be down), or "" for none.
  if (s.string("cdr", out.cdr) && is_postgres_url(out.cdr)) {
    if (auto e = check_database_url(out.cdr); !e.empty()) s.problems().add_at(s.path("cdr"), e);
  }
  s.string("recording_dir", out.recording_dir);  // resolved and checked in read_root (it knows who records)
  s.integer("drain_timeout_s", out.drain_timeout_s, 0, 86400);
  std::string level;
  if (s.string("log_level", level)) {
    static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels))
      s.problems().add_at(s.path("log_level"), fmt::format("'{}' is not one of: trace, debug, info, warn, error, critical, off", level));
    else
      out.log_level = level;
  }
  // The upper bound only catches typos: RTP ports limit a node to about 32,000 calls anyway.
  s.integer("max_calls", out.max_calls, 0, 1000000);
  s.integer("invite_rate_per_source", out.invite_rate_per_source, 0, 100000);
  s.boolean("drain_exit", out.drain_exit);
  s.integer("retry_after_s", out.retry_after_s, 1, 3600);
  s.string_list("dns_servers", out.dns_servers, config_detail::check_dns_server);
  if (s.string("hep", text)) {
    if (auto e = config_detail::parse_hep_address(text, out.hep); !e.empty()) s.problems().add_at(s.path("hep"), e);
  }
  s.integer("hep_id", out.hep_id, 0, 4294967295LL);
  s.string("hep_password", out.hep_password);
}

// A `codecs` list ([media], a trunk's): canonical names, each known and listed once, at least one.
void read_codecs(Section& s, std::vector<std::string>& out) {
  std::vector<std::string> codecs;
  if (!s.string_list("codecs", codecs)) return;
  out.clear();
  for (size_t i = 0; i < codecs.size(); ++i) {
    const std::string where = fmt::format("{}[{}]", s.path("codecs"), i);
    const std::string name = config_detail::canonical_codec(codecs[i]);
    if (name.empty()) s.problems().add_at(where, fmt::format("unknown codec '{}' (PCMU, PCMA, G722, opus)", codecs[i]));
    else if (std::find(out.begin(), out.end(), name) != out.end()) s.problems().add_at(where, fmt::format("'{}' is listed twice", name));
    else out.push_back(name);
  }
  if (codecs.empty()) s.problems().add_at(s.path("codecs"), "needs at least one codec");
}

void read_media(Section& s, MediaConfig& out) {
  read_codecs(s, out.codecs);
  // Hold music plays while a caller waits during a warm transfer (hold = "music"); "" = the shipped
  // file. A file that cannot be played is refused here, on its line, not at the first transfer.
  if (s.string("hold_music", out.hold_music) && !out.hold_music.empty()) {
    out.hold_music = resolve_path(s.context(), out.hold_music);
    if (auto e = check_hold_music_file(out.hold_music); !e.empty()) s.problems().add_at(s.path("hold_music"), e);
  }
  if (s.string("tts_voice", out.tts_voice) && out.tts_voice.empty()) s.problems().add_at(s.path("tts_voice"), "must not be empty");
  s.choice("ringback", out.ringback, {{"us", Ringback::us}, {"etsi", Ringback::etsi}, {"uk", Ringback::uk}});
  s.choice("rtp_io", out.rtp_io, {{"batched", RtpIo::batched}, {"plain", RtpIo::plain}});
  s.integer("tick_slots", out.tick_slots, 1, 20);
}

void read_trunk(Section& s, TrunkConfig& out) {
  s.required_string("name", out.name);
  std::string text;
  if (s.string("address", text)) {
    if (auto e = config_detail::parse_host_port(text, out.address); !e.empty()) s.problems().add_at(s.path("address"), e);
  }
  s.choice("transport", out.transport, {{"udp", Transport::udp}, {"tcp", Transport::tcp}, {"tls", Transport::tls}});
  s.boolean("tls_verify", out.tls_verify);
  if (s.string("tls_ca", out.tls_ca) && !out.tls_ca.empty()) {
    out.tls_ca = resolve_path(s.context(), out.tls_ca);
    if (auto e = config_detail::check_tls_ca(out.tls_ca); !e.empty()) s.problems().add_at(s.path("tls_ca"), e);
  }
  if (out.transport != Transport::tls && (s.node("tls_ca") || s.node("tls_verify")))
    s.problems().add_at(s.path(s.node("tls_ca") ? "tls_ca" : "tls_verify"), "only for transport = \"tls\"");
  std::vector<std::string> cidrs;
  if (s.string_list("source_cidrs", cidrs)) {
    for (size_t i = 0; i < cidrs.size(); ++i) {
      Cidr c;
      if (auto e = config_detail::parse_cidr(cidrs[i], c); !e.empty()) s.problems().add_at(fmt::format("{}[{}]", s.path("source_cidrs"), i), e);
      else out.source_cidrs.push_back(c);
    }
  }
  s.boolean("accepts_refer", out.accepts_refer);
  // It applies to the calls warmline places through the trunk (address) and to those that come in from
  // it (source_cidrs): a trunk with neither has no dialog a REFER could come in, and the key would be
  // ignored.
  s.boolean("accepts_refer_from_peer", out.accepts_refer_from_peer);
  if (out.accepts_refer_from_peer && s.node("address") == nullptr && s.node("source_cidrs") == nullptr)
    s.problems().add_at(s.path("accepts_refer_from_peer"),
                        "accepts_refer_from_peer = true needs the trunk's address or source_cidrs (it applies to "
                        "calls warmline places through this trunk and to calls that come in from it)");
  s.choice("provisional", out.provisional,
           {{"180", Provisional::ringing}, {"183", Provisional::session_progress}, {"none", Provisional::none}});
  s.string("username", out.username);
  s.string("password", out.password);
  // Pointed at the key that is there: the other one is missing.
  if (out.username.empty() != out.password.empty())
    s.problems().add_at(s.path(out.username.empty() ? "password" : "username"), "username and password go together");
  s.string_list("caller_ids", out.caller_ids, config_detail::check_e164);
  s.choice("number_format", out.number_format, {{"e164", NumberFormat::e164}, {"no_plus", NumberFormat::no_plus}});
  s.string("tech_prefix", out.tech_prefix, config_detail::check_tech_prefix);
  s.choice("srtp", out.srtp, {{"off", SrtpPolicy::off}, {"optional", SrtpPolicy::optional}, {"required", SrtpPolicy::required}});
  s.boolean("register", out.register_);
  s.integer("register_expires_s", out.register_expires_s, 60, 86400);
  // The registrar is the trunk's address and the binding is for its username (To: sip:<username>@<host>).
  if (out.register_ && s.node("address") == nullptr)  // a bad address is reported already
    s.problems().add_at(s.path("register"), "register = true needs the trunk's address (the registrar to REGISTER with)");
  if (out.register_ && out.username.empty())
    s.problems().add_at(s.path("register"), "register = true needs username and password (the account to register)");
  else if (auto e = out.register_ ? config_detail::check_user_part(out.username) : ""; !e.empty())
    s.problems().add_at(s.path("username"), e + " (register = true puts it in the SIP URI sip:<username>@<address>)");
  if (s.integer("ping_interval_s", out.ping_interval_s, 0, 3600) && out.ping_interval_s != 0) {
    if (out.ping_interval_s < 5)
      s.problems().add_at(s.path("ping_interval_s"), fmt::format("must be 0 (off) or from 5 to 3600, got {}", out.ping_interval_s));
    else if (s.node("address") == nullptr)
      s.problems().add_at(s.path("ping_interval_s"), "ping_interval_s needs the trunk's address (where the OPTIONS go)");
  }
  // RFC 4028 §4: no session interval may be below Min-SE, and Min-SE is never below 90 s.
  if (s.integer("session_timer_s", out.session_timer_s, 0, 86400) && out.session_timer_s != 0 && out.session_timer_s < 90)
    s.error("session_timer_s", *s.node("session_timer_s"),
            fmt::format("must be 0 (off) or from 90 (RFC 4028's smallest Min-SE) to 86400, got {}", out.session_timer_s));
  if (s.integer("session_min_se_s", out.session_min_se_s, 90, 86400) && out.session_timer_s != 0 &&
      out.session_timer_s < out.session_min_se_s)
    s.error("session_min_se_s", *s.node("session_min_se_s"),
            fmt::format("{} is above session_timer_s ({}): no interval warmline asks for may be below it",
                        out.session_min_se_s, out.session_timer_s));
  read_codecs(s, out.codecs);  // each must be one of [media] codecs: config_validate.cpp
}

void read_root(Section& root, Config& config) {
  bool named = false;  // [server] recording_dir is set
  if (const toml::table* t = root.subtable("server")) {
    named = t->contains("recording_dir");
    Section s(*t, "server", root.context());
    read_server(s, config.server);
    s.finish();
  }
  if (!is_postgres_url(config.server.cdr))
    config.server.cdr = resolve_path(root.context(), config.server.cdr);  // the default too
  if (const toml::table* t = root.subtable("media")) {
    Section s(*t, "media", root.context());
    read_media(s, config.media);
    s.finish();
  }
  root.tables("trunk", config.trunks, read_trunk);
  root.tables("pbx", config.pbxs, read_pbx);
  root.tables("agent", config.agents, read_agent);
  if (const toml::table* t = root.subtable("webhooks")) {
    Section s(*t, "webhooks", root.context());
    read_webhooks(s, config.webhooks);
    s.finish();
  }
  root.finish();
  // The recordings' folder must be usable when it is named, or when an agent records every call:
  // the error points at the key that asks for it. (Recordings started through the API alone find an
  // unusable default folder at run time: logged, warmline_recording_failures_total.)
  config.server.recording_dir = resolve_path(root.context(), config.server.recording_dir);
  const auto recorder = std::find_if(config.agents.begin(), config.agents.end(), [](const AgentConfig& a) { return a.record; });
  if (named || recorder != config.agents.end()) {
    if (auto e = check_recording_dir(config.server.recording_dir); !e.empty()) {
      root.problems().add_at(named ? "server.recording_dir"
                                   : fmt::format("agent[{}].record", recorder - config.agents.begin()),
                             named ? e : fmt::format("[server] recording_dir: {}", e));
    }
  }
}

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& source_name, const EnvLookup& env) {
  Problems problems(source_name);
  LoadResult result;
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    problems.add(static_cast<int>(e.source().begin.line), "", fmt::format("syntax error: {}", e.description()));
    result.errors = problems.take();
    return result;
  }
  Context ctx{problems, env, std::filesystem::path(source_name).parent_path()};
  Config config;
  Section root(table, "", ctx);
  read_root(root, config);
  config_detail::validate_references(config, problems);
  config_detail::apply_http_token(config, problems);
  if (problems.empty()) {
    result.warnings = config_detail::warnings(config, problems);
    result.config = std::move(config);
  } else {
    result.errors = problems.take();
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  }
  return result;
}

LoadResult load_config(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, "", fmt::format("cannot read: {}", std::strerror(errno))});
    return result;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_config_text(text, path, env);
}

}  // namespace warmline::server
