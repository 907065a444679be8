// The config loader's readers of [[agent]] (with its targets), [[pbx]] (with its extensions) and
// [webhooks]: each value checked where it is read (config_section.hpp).
#include "server/config_section.hpp"
#include "server/webhook/webhook_event.hpp"
#include "server/webhook/webhook_http.hpp"

namespace warmline::server::config_schema {

namespace {

void read_extension(Section& s, ExtensionConfig& out) {
  // `number = 101` is as natural to write as `number = "101"`; accept both.
  if (const toml::node* n = s.node("number"); n != nullptr && n->is_integer()) {
    out.number = std::to_string(n->as_integer()->get());
    if (auto e = config_detail::check_extension_number(out.number); !e.empty()) s.error("number", *n, e);
  } else if (n != nullptr) {
    s.string("number", out.number, config_detail::check_extension_number);
  } else {
    s.required_string("number", out.number);
  }
  s.string("name", out.name);
  s.string_list("aliases", out.aliases);
  s.choice("kind", out.kind, {{"extension", ExtensionKind::extension}, {"queue", ExtensionKind::queue}, {"ring_group", ExtensionKind::ring_group}});
}

void read_target(Section& s, TargetConfig& out) {
  s.required_string("name", out.name);
  s.string_list("aliases", out.aliases);
  s.required_string("uri", out.uri, config_detail::check_target_uri);
  s.string("via", out.via);
  s.string("caller_id", out.caller_id, config_detail::check_e164);
  s.integer("ring_timeout_s", out.ring_timeout_s, 1, 600);
}

}  // namespace

void read_pbx(Section& s, PbxConfig& out) {
  s.required_string("name", out.name);
  s.required_string("domain", out.domain, [](std::string_view text) {
    HostPort hp;
    return config_detail::parse_host_port(text, hp);
  });
  s.required_string("trunk", out.trunk);
  s.tables("extension", out.extensions, read_extension);
}

void read_agent(Section& s, AgentConfig& out) {
  s.required_string("name", out.name);
  s.string_list("numbers", out.numbers, config_detail::check_user_part);
  if (s.required_string("url", out.url, config_detail::check_agent_url) && out.url.starts_with("wss://"))
    s.problems().add_at(s.path("url"), unavailable("wss:// (TLS to the agent)", "use ws://"));
  // A SIP agent (docs/sip.md "SIP agents") speaks SIP and RTP: the WebSocket's settings would be ignored.
  const auto websocket_only = [&](std::string_view key) {
    if (is_sip_agent(out)) s.problems().add_at(s.path(key), "only for a WebSocket agent (url ws://); a sip: agent has no use for it");
  };
  if (s.string("token", out.token)) websocket_only("token");
  if (s.node("protocol") != nullptr) websocket_only("protocol");
  s.choice("protocol", out.protocol,
           {{"warmline", AgentProtocol::warmline}, {"twilio", AgentProtocol::twilio}, {"telnyx", AgentProtocol::telnyx},
            {"plivo", AgentProtocol::plivo}, {"exotel", AgentProtocol::exotel}, {"vonage", AgentProtocol::vonage}});
  const bool dialect = out.protocol != AgentProtocol::warmline;
  if (dialect) out.sample_rate = dialect_sample_rate(out.protocol);
  if (s.integer("sample_rate", out.sample_rate, 0, 1000000)) {
    if (out.sample_rate != 8000 && out.sample_rate != 16000 && out.sample_rate != 24000)
      s.problems().add_at(s.path("sample_rate"), fmt::format("{} is not 8000, 16000 or 24000", out.sample_rate));
    else if (dialect && out.sample_rate != dialect_sample_rate(out.protocol))
      s.problems().add_at(s.path("sample_rate"), fmt::format("protocol {} is always {} Hz", to_string(out.protocol),
                                                             dialect_sample_rate(out.protocol)));
  }
  // Settings of the provider dialects: refused with the native protocol, which has no use for them.
  const auto dialect_only = [&](std::string_view key) {
    if (!dialect) s.problems().add_at(s.path(key), "only for a provider dialect (protocol twilio, telnyx, plivo, exotel or vonage)");
  };
  if (s.string("account_id", out.account_id)) dialect_only("account_id");
  if (s.string("api_key", out.api_key)) {
    dialect_only("api_key");
    if ((out.protocol == AgentProtocol::twilio || out.protocol == AgentProtocol::plivo) && out.account_id.empty())
      s.problems().add_at(s.path("api_key"), "needs account_id: the REST calls authenticate as account_id:api_key");
    if (out.protocol == AgentProtocol::exotel || out.protocol == AgentProtocol::vonage)
      s.problems().add_at(s.path("api_key"), fmt::format("protocol {} has no REST call control on warmline: nothing "
                                                         "would check it", to_string(out.protocol)));
  }
  if (const toml::table* t = s.subtable("parameters")) {
    dialect_only("parameters");
    Section p(*t, s.path("parameters"), s.context());
    for (auto&& [key, value] : *t) {
      std::string v;
      if (p.string(key.str(), v)) out.parameters.emplace_back(std::string(key.str()), std::move(v));
    }
    p.finish();
  }
  s.tables("target", out.targets, read_target);
  s.string_list("allow_patterns", out.allow_patterns, config_detail::check_allow_pattern);
  s.string("trunk", out.trunk);
  s.string("caller_id", out.caller_id, config_detail::check_e164);
  s.string("default_forward", out.default_forward);
  s.string("fallback_message", out.fallback_message);
  s.integer("refer_timeout_s", out.refer_timeout_s, 1, 600);
  s.choice("on_failure", out.on_failure, {{"agent", OnFailure::agent}, {"default_forward", OnFailure::default_forward}});
  s.choice("refer_fallback", out.refer_fallback, {{"dial", ReferFallback::dial}, {"agent", ReferFallback::agent}});
  s.choice("refer_in_mode", out.refer_in_mode, {{"cold", ReferInMode::cold}, {"warm", ReferInMode::warm}});
  s.integer("ring_timeout_s", out.ring_timeout_s, 1, 600);
  s.boolean("decline_is_final", out.decline_is_final);
  s.integer("stall_timeout_s", out.stall_timeout_s, 1, 600);
  s.boolean("record", out.record);
}

// [webhooks] (docs/webhooks.md). Every other key needs url; url needs a secret, so no event goes out
// unsigned.
void read_webhooks(Section& s, WebhooksConfig& out) {
  const bool has_url = s.required_string("url", out.url, [](std::string_view text) -> std::string {
    if (parse_webhook_url(text)) return "";
    return fmt::format("'{}' is not an http:// or https:// URL (http://host[:port][/path])", text);
  });
  s.string("secret", out.secret);
  std::vector<std::string> events;
  if (s.string_list("events", events)) {
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string where = fmt::format("{}[{}]", s.path("events"), i);
      if (!webhook_event_type(events[i]))
        s.problems().add_at(where, fmt::format("'{}' is not one of: call.started, call.answered, transfer.updated, "
                                               "call.ended", events[i]));
      else if (std::find(out.events.begin(), out.events.end(), events[i]) != out.events.end())
        s.problems().add_at(where, fmt::format("'{}' is listed twice", events[i]));
      else out.events.push_back(events[i]);
    }
    if (events.empty()) s.problems().add_at(s.path("events"), "needs at least one event type (leave it out for all)");
  }
  s.integer("timeout_s", out.timeout_s, 1, 300);
  s.integer("max_queue", out.max_queue, 1, 1000000);
  s.integer("max_attempts", out.max_attempts, 1, 30);
  s.boolean("tls_verify", out.tls_verify);
  if (!has_url) return;  // reported already (missing or not a URL)
  if (out.secret.empty())
    s.problems().add_at(s.path("secret"), "required with url: every event is signed with it (use \"${ENV_VAR}\")");
  if (s.node("tls_verify") != nullptr && !out.url.starts_with("https://"))
    s.problems().add_at(s.path("tls_verify"), "only for an https:// url");
}

}  // namespace warmline::server::config_schema
