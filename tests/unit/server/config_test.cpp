#include "server/check_config_command.hpp"
#include "server/config.hpp"

#include "media/prompts.hpp"
#include "server/leg/hold_music.hpp"
#include "sip/resolve/ares_channel.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(WARMLINE_TEST_DATA) + "/config/";

EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

LoadResult load_text(std::string_view text, const EnvLookup& env = no_env()) {
  return load_config_text(text, kData + "inline.toml", env);
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += format_config_error(e) + "\n";
  return out;
}

TEST(ConfigTest, DefaultConfigPassesCheckConfig) {
  const std::string path = std::string(WARMLINE_SOURCE_DIR) + "/conf/warmline.toml";
  std::ostringstream out, err;
  EXPECT_EQ(check_config_command(path, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), path + ": ok\n");
  EXPECT_EQ(err.str(), "");

  LoadResult r = load_config(path, no_env());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.sip_listen.at(0).port, 5060);
  EXPECT_EQ(c.server.http.port, 8080);
  ASSERT_EQ(c.agents.size(), 1u);
  EXPECT_EQ(c.agents[0].url, "ws://127.0.0.1:8765");
  EXPECT_EQ(c.agents[0].numbers, std::vector<std::string>{"demo"});
  ASSERT_EQ(c.agents[0].targets.size(), 2u);
  EXPECT_EQ(c.agents[0].targets[0].aliases, (std::vector<std::string>{"help", "human"}));
  EXPECT_TRUE(c.trunks.at(0).accepts_refer);
  EXPECT_EQ(c.pbxs.at(0).extensions.at(0).number, "101");
}

TEST(ConfigTest, FullFileFillsEverySection) {
  LoadResult r = load_config(kData + "full.toml", no_env());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = *r.config;

  ASSERT_EQ(c.server.sip_listen.size(), 1u);
  EXPECT_EQ(c.server.sip_listen[0].host, "::1");
  EXPECT_EQ(c.server.sip_listen[0].port, 5090);
  EXPECT_EQ(c.server.public_address, "gw.example.com");
  EXPECT_EQ(c.server.http.host, "::1");
  EXPECT_EQ(c.server.http.port, 9090);
  EXPECT_EQ(c.server.rtp_ports.first, 30000);
  EXPECT_EQ(c.server.rtp_ports.last, 30999);
  EXPECT_EQ(c.server.shards, 4u);
  EXPECT_EQ(c.server.cdr, "/var/lib/warmline/cdr.sqlite");
  EXPECT_EQ(c.server.drain_timeout_s, 120u);
  EXPECT_EQ(c.server.log_level, "debug");
  EXPECT_EQ(c.server.max_calls, 200u);
  EXPECT_TRUE(c.server.drain_exit);
  EXPECT_EQ(c.server.retry_after_s, 30u);
  EXPECT_EQ(c.server.dns_servers,
            (std::vector<std::string>{"192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:53", "::1"}));
  // The resolver (sip/resolve) takes these strings as they are.
  for (const std::string& server : c.server.dns_servers) EXPECT_TRUE(sip::valid_dns_server(server)) << server;

  EXPECT_EQ(c.media.codecs, (std::vector<std::string>{"opus", "G722", "PCMA"}));
  EXPECT_EQ(c.media.hold_music, "");
  EXPECT_EQ(c.media.tts_voice, "en-gb");
  EXPECT_EQ(c.media.ringback, Ringback::uk);
  EXPECT_EQ(c.media.rtp_io, RtpIo::plain);
  EXPECT_EQ(c.media.tick_slots, 5u);

  ASSERT_EQ(c.trunks.size(), 2u);
  const TrunkConfig& t = c.trunks[0];
  EXPECT_EQ(t.name, "carrier");
  EXPECT_EQ(t.address.host, "sip.carrier.example");
  EXPECT_EQ(t.address.port, 5062);
  ASSERT_EQ(t.source_cidrs.size(), 3u);
  EXPECT_EQ(t.source_cidrs[1].prefix_len, 32);
  EXPECT_TRUE(t.source_cidrs[1].network.v6);
  EXPECT_EQ(t.source_cidrs[2].prefix_len, 32);  // a bare address is one host
  EXPECT_FALSE(t.accepts_refer);
  EXPECT_EQ(t.provisional, Provisional::session_progress);
  EXPECT_EQ(t.caller_ids.size(), 2u);
  EXPECT_FALSE(t.register_);
  EXPECT_EQ(t.username, "acct-7");
  EXPECT_EQ(t.password, "s3cret");
  EXPECT_EQ(t.number_format, NumberFormat::no_plus);
  EXPECT_EQ(t.tech_prefix, "1010");
  EXPECT_EQ(c.trunks[1].number_format, NumberFormat::e164);
  EXPECT_EQ(c.trunks[1].address.port, 0);
  EXPECT_EQ(c.trunks[1].provisional, Provisional::none);

  ASSERT_EQ(c.pbxs.size(), 1u);
  ASSERT_EQ(c.pbxs[0].extensions.size(), 2u);
  EXPECT_EQ(c.pbxs[0].extensions[0].number, "101");  // written as an integer
  EXPECT_EQ(c.pbxs[0].extensions[0].aliases, std::vector<std::string>{"front desk"});
  EXPECT_EQ(c.pbxs[0].extensions[1].kind, ExtensionKind::queue);

  ASSERT_EQ(c.agents.size(), 1u);
  const AgentConfig& a = c.agents[0];
  EXPECT_EQ(a.numbers, (std::vector<std::string>{"+27115550100", "concierge"}));
  EXPECT_EQ(a.url, "ws://ai.example.com:8443/stream?x=1");
  EXPECT_EQ(a.token, "tok");
  EXPECT_EQ(a.protocol, AgentProtocol::warmline);
  EXPECT_EQ(a.sample_rate, 8000u);
  EXPECT_EQ(a.allow_patterns.size(), 2u);
  EXPECT_EQ(a.trunk, "carrier");
  EXPECT_EQ(a.caller_id, "+27115550101");
  EXPECT_EQ(a.default_forward, "+27115550199");
  EXPECT_EQ(a.fallback_message, "Goodbye.");
  EXPECT_EQ(a.refer_timeout_s, 10u);
  EXPECT_EQ(a.on_failure, OnFailure::default_forward);
  EXPECT_EQ(a.refer_fallback, ReferFallback::agent);
  EXPECT_EQ(a.refer_in_mode, ReferInMode::warm);
  EXPECT_EQ(a.ring_timeout_s, 25u);
  EXPECT_FALSE(a.decline_is_final);
  ASSERT_FALSE(a.targets.empty());
  EXPECT_EQ(a.targets[0].ring_timeout_s, 12u);
  ASSERT_EQ(a.targets.size(), 1u);
  EXPECT_EQ(a.targets[0].uri, "tel:+27115550142");
  EXPECT_EQ(a.targets[0].via, "carrier");
  EXPECT_EQ(a.targets[0].caller_id, "+27115550100");
}

TEST(ConfigTest, MinimalFileGetsDefaults) {
  LoadResult r = load_config(kData + "minimal.toml", no_env());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = *r.config;
  ASSERT_EQ(c.server.sip_listen.size(), 1u);
  EXPECT_EQ(c.server.sip_listen[0].transport, Transport::udp);
  EXPECT_EQ(c.server.sip_listen[0].host, "127.0.0.1");
  EXPECT_EQ(c.server.sip_listen[0].port, 5060);
  EXPECT_EQ(c.server.http.host, "127.0.0.1");
  EXPECT_EQ(c.server.http.port, 8080);
  EXPECT_EQ(c.server.rtp_ports.first, 20000);
  EXPECT_EQ(c.server.rtp_ports.last, 20999);
  EXPECT_EQ(c.server.shards, 0u);
  EXPECT_EQ(c.server.cdr, kData + "warmline-cdr.sqlite");
  EXPECT_EQ(c.server.log_level, "info");
  EXPECT_EQ(c.server.max_calls, 0u);  // unlimited
  EXPECT_FALSE(c.server.drain_exit);
  EXPECT_EQ(c.server.retry_after_s, 5u);
  EXPECT_TRUE(c.server.dns_servers.empty());  // the system's resolv.conf
  EXPECT_EQ(c.media.hold_music, "");
  EXPECT_EQ(c.media.codecs, (std::vector<std::string>{"PCMU", "PCMA"}));
  EXPECT_EQ(c.media.ringback, Ringback::us);
  EXPECT_EQ(c.media.rtp_io, RtpIo::batched);
  EXPECT_EQ(c.media.tick_slots, 20u);
  EXPECT_EQ(c.media.tts_voice, "en-us");
  EXPECT_TRUE(c.trunks.empty());
  ASSERT_EQ(c.agents.size(), 1u);
  const AgentConfig& a = c.agents[0];
  EXPECT_EQ(a.protocol, AgentProtocol::warmline);
  EXPECT_EQ(a.sample_rate, 16000u);
  EXPECT_EQ(a.refer_timeout_s, 30u);
  EXPECT_EQ(a.on_failure, OnFailure::agent);
  EXPECT_EQ(a.refer_fallback, ReferFallback::dial);
  EXPECT_EQ(a.refer_in_mode, ReferInMode::cold);
  EXPECT_EQ(a.ring_timeout_s, 30u);
  EXPECT_TRUE(a.decline_is_final);
  EXPECT_EQ(a.stall_timeout_s, 5u);
  EXPECT_FALSE(a.fallback_message.empty());
}

TEST(ConfigTest, EmptyFileIsValid) {
  LoadResult r = load_text("");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_TRUE(r.config->agents.empty());
}

// DESIGN.md "Configuration": a value the build cannot honour is refused, never accepted and ignored.
TEST(ConfigTest, UnavailableValuesAreRefused) {
  const std::string path = kData + "unavailable.toml";
  LoadResult r = load_config(path, no_env());
  ASSERT_FALSE(r.ok());
  const std::vector<std::string> expected = {
      "4 server.sip_listen[1]: not available in this build: a second udp address is not implemented yet; keep one "
      "per transport",
      "23 agent[0].url: not available in this build: wss:// (TLS to the agent) is not implemented yet; use ws://",
  };
  std::vector<std::string> actual;
  for (const ConfigError& e : r.errors) actual.push_back(std::to_string(e.line) + " " + e.key_path + ": " + e.message);
  EXPECT_EQ(actual, expected) << all_errors(r);
}

TEST(ConfigTest, CheckConfigRefusesUnavailableValuesWithExit2) {
  const std::string path = kData + "unavailable.toml";
  std::ostringstream out, err;
  EXPECT_EQ(check_config_command(path, out, err), 2);
  EXPECT_EQ(out.str(), "");
  EXPECT_THAT(err.str(), HasSubstr(path + ":23: agent[0].url: not available in this build: wss:// (TLS to the "
                                          "agent) is not implemented yet; use ws://\n"));
}

// The same values at their defaults are accepted: only what the build cannot honour is refused.
TEST(ConfigTest, UnavailableFeaturesAtTheirDefaultsAreAccepted) {
  LoadResult r = load_text(R"(
[server]
sip_listen = ["udp:127.0.0.1:5060"]
[media]
hold_music = ""
[[trunk]]
name = "t"
username = ""
password = ""
register = false
[[agent]]
name = "a"
url = "ws://h"
protocol = "warmline"
)");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->agents[0].protocol, AgentProtocol::warmline);
  EXPECT_FALSE(r.config->trunks[0].register_);
}

// Issue 9: `[media] hold_music` names what callers on hold hear; "" is the shipped file. A path is
// resolved against the config file's folder, like every path in the file.
TEST(ConfigTest, HoldMusicIsAnAudioFileRelativeToTheConfigFolder) {
  const std::string shipped = std::string(WARMLINE_SOURCE_DIR) + "/conf/audio/hold-music.wav";
  LoadResult r = load_text("[media]\nhold_music = \"../../../conf/audio/hold-music.wav\"\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->media.hold_music, shipped);
  r = load_text("[media]\nhold_music = \"" + shipped + "\"\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->media.hold_music, shipped);

  // The default is the shipped file, which this build finds where it was built.
  r = load_text("[media]\nhold_music = \"\"\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->media.hold_music, "");
  EXPECT_EQ(shipped_audio_file(media::kHoldMusicFile), shipped);
  EXPECT_EQ(check_hold_music_file(shipped), "");
}

// A file that cannot be played is refused by check-config (and so at start-up), on its line, with the
// path it looked at — not found out at the first warm transfer.
TEST(ConfigTest, HoldMusicThatCannotBePlayedIsRefusedOnItsLine) {
  struct Case {
    std::string value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"missing.wav", "cannot play '" + kData + "missing.wav' as hold music: no such file"},
      {"hold.wav", "cannot play '" + kData + "hold.wav' as hold music: not audio that libsndfile can read"},
      {"minimal.toml", "cannot play '" + kData + "minimal.toml' as hold music: not audio that libsndfile can read"},
      {"../config", "cannot play '" + kData.substr(0, kData.size() - 1) + "' as hold music: is a directory"},
  };
  for (const Case& c : cases) {
    LoadResult r = load_text("[media]\ncodecs = [\"PCMU\"]\nhold_music = \"" + c.value + "\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << c.value << "\n" << all_errors(r);
    EXPECT_EQ(r.errors[0].file, kData + "inline.toml");
    EXPECT_EQ(r.errors[0].line, 3) << c.value;
    EXPECT_EQ(r.errors[0].key_path, "media.hold_music");
    EXPECT_THAT(r.errors[0].message, HasSubstr(c.message));
  }
}

// docs/configuration.md `register`: a trunk REGISTERs with its address as registrar and its username
// and password as the account; each missing piece is reported on the line of `register`.
TEST(ConfigTest, RegisteringTrunksNeedAnAddressAndCredentials) {
  LoadResult ok = load_text(R"([[trunk]]
name = "carrier"
address = "sip.carrier.example:5080"
username = "acct-7"
password = "s3cret"
register = true
register_expires_s = 600
ping_interval_s = 30
[[trunk]]
name = "pbx"
)");
  ASSERT_TRUE(ok.ok()) << all_errors(ok);
  EXPECT_EQ(ok.config->trunks[0].ping_interval_s, 30u);
  EXPECT_EQ(ok.config->trunks[1].ping_interval_s, 0u);  // the default: no pings
  EXPECT_TRUE(ok.config->trunks[0].register_);
  EXPECT_EQ(ok.config->trunks[0].register_expires_s, 600u);
  EXPECT_FALSE(ok.config->trunks[1].register_);
  EXPECT_EQ(ok.config->trunks[1].register_expires_s, 3600u);  // the default

  LoadResult bad = load_text(R"([[trunk]]
name = "carrier"
register = true
[[trunk]]
name = "other"
address = "198.51.100.7"
register = true
)");
  std::vector<std::string> actual;
  for (const ConfigError& e : bad.errors) actual.push_back(std::to_string(e.line) + " " + e.key_path + ": " + e.message);
  const std::vector<std::string> expected = {
      "3 trunk[0].register: register = true needs the trunk's address (the registrar to REGISTER with)",
      "3 trunk[0].register: register = true needs username and password (the account to register)",
      "7 trunk[1].register: register = true needs username and password (the account to register)",
  };
  EXPECT_EQ(actual, expected);
}

// docs/configuration.md `cdr`: a SQLite file relative to the config file's folder, an absolute path as
// written, or "" for no records; a PostgreSQL URL is refused, not taken for a file name.
TEST(ConfigTest, CdrIsASqlitePathRelativeToTheConfigFileOrEmptyForNone) {
  LoadResult relative = load_text("[server]\ncdr = \"records/calls.sqlite\"\n");
  ASSERT_TRUE(relative.ok()) << all_errors(relative);
  EXPECT_EQ(relative.config->server.cdr, kData + "records/calls.sqlite");

  LoadResult absolute = load_text("[server]\ncdr = \"/var/lib/warmline/cdr.sqlite\"\n");
  ASSERT_TRUE(absolute.ok()) << all_errors(absolute);
  EXPECT_EQ(absolute.config->server.cdr, "/var/lib/warmline/cdr.sqlite");

  LoadResult off = load_text("[server]\ncdr = \"\"\n");
  ASSERT_TRUE(off.ok()) << all_errors(off);
  EXPECT_EQ(off.config->server.cdr, "");

  // A PostgreSQL URL is kept as written (not taken for a relative file name); one libpq cannot parse is
  // an error at its line.
  for (const char* url : {"postgresql://warmline@db/cdr", "postgres://db:5433/cdr?sslmode=require"}) {
    LoadResult pg = load_text(std::string("[server]\ncdr = \"") + url + "\"\n");
    ASSERT_TRUE(pg.ok()) << url << ": " << all_errors(pg);
    EXPECT_EQ(pg.config->server.cdr, url);
  }
  LoadResult bad = load_text("[server]\ncdr = \"postgresql://db/cdr?no_such_option=1\"\n");
  ASSERT_EQ(bad.errors.size(), 1u) << all_errors(bad);
  EXPECT_EQ(bad.errors[0].line, 2);
  EXPECT_EQ(bad.errors[0].key_path, "server.cdr");
  EXPECT_THAT(bad.errors[0].message, HasSubstr("not a PostgreSQL connection URL"));
  EXPECT_THAT(bad.errors[0].message, HasSubstr("no_such_option"));
}

TEST(ConfigTest, DrainAndOverloadKeysAreCheckedWithLineAndKeyPath) {
  LoadResult r = load_text("[server]\nmax_calls = -1\nretry_after_s = 0\ndrain_exit = \"yes\"\n");
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(format_config_error(r.errors[0]), kData + "inline.toml:2: server.max_calls: must be from 0 to 1000000, got -1");
  EXPECT_EQ(format_config_error(r.errors[1]), kData + "inline.toml:3: server.retry_after_s: must be from 1 to 3600, got 0");
  EXPECT_EQ(format_config_error(r.errors[2]), kData + "inline.toml:4: server.drain_exit: expected true or false, got a string");
}

TEST(ConfigTest, DnsServersMustBeAddressesWithOptionalPorts) {
  LoadResult r = load_text(
      "[server]\n"
      "dns_servers = [\"192.0.2.53\", \"dns.example.com\", \"192.0.2.53:0\",\n"
      "               \"[2001:db8::53]:53\", \"[192.0.2.1]:53\", \"[::1]:\", 53]\n");
  std::vector<std::string> actual;
  for (const ConfigError& e : r.errors) actual.push_back(format_config_error(e));
  const std::string at = kData + "inline.toml:";
  EXPECT_EQ(actual, (std::vector<std::string>{
                        at + "2: server.dns_servers[1]: 'dns.example.com' is not an IP address (a DNS server is given "
                             "by address, e.g. \"192.0.2.53\" or \"[2001:db8::53]:5353\")",
                        at + "2: server.dns_servers[2]: port '0' is not a number from 1 to 65535",
                        at + "3: server.dns_servers[4]: '192.0.2.1' is not an IPv6 address",
                        at + "3: server.dns_servers[5]: '[::1]:' has an empty port",
                        at + "3: server.dns_servers[6]: expected a string, got an integer",
                    }));
  EXPECT_EQ(load_text("[server]\ndns_servers = \"192.0.2.53\"\n").errors.at(0).message, "expected an array, got a string");
}

// Every problem in the file is reported, each with its line and key path, and nothing else.
TEST(ConfigTest, EveryMistakeIsReportedWithLineAndKeyPath) {
  const std::string path = kData + "mistakes.toml";
  LoadResult r = load_config(path, no_env());
  ASSERT_FALSE(r.ok());
  const std::multimap<std::string, std::string> expected = {
      {"3 server.sip_listen", "needs a udp: address (TCP and TLS listen beside UDP, not instead of it)"},
      {"3 server.sip_listen[1]", "'localhost' is not an IP address"},
      {"4 server.http", "is not an IP address and port"},
      {"5 server.rtp_ports", "first port is above the last"},
      {"6 server.shards", "expected an integer, got a string"},
      {"7 server.log_level", "'loud' is not one of"},
      {"8 server.listen", "unknown key"},
      {"11 media.codecs[1]", "unknown codec 'GSM'"},
      {"11 media.codecs[2]", "'PCMU' is listed twice"},
      {"12 media.hold_music", "cannot play '" + kData + "no-such-file.wav' as hold music: no such file"},
      {"13 media.ringback", "'de' is not one of: us, etsi, uk"},
      {"17 trunk[0].source_cidrs[0]", "host bits set"},
      {"17 trunk[0].source_cidrs[1]", "not an IPv4 or IPv6 CIDR"},
      {"17 trunk[0].source_cidrs[2]", "prefix length must be 0 to 128"},
      {"18 trunk[0].caller_ids[0]", "not an E.164 number"},
      {"18 trunk[0].caller_ids[1]", "not an E.164 number"},
      {"19 trunk[0].password", "username and password go together"},
      {"22 trunk[1].name", "'Carrier' is already used by trunk[0].name"},
      {"23 trunk[1].transport", "'sctp' is not one of"},
      {"28 pbx[0].trunk", "'nowhere' is not a configured trunk"},
      {"31 pbx[0].extension[0].number", "'1O1' is not an extension number"},
      {"33 pbx[0].extension[1].number", "missing (required)"},
      {"39 agent[0].url", "must start with ws://, wss://, sip: or sips:"},
      {"41 agent[0].sample_rate", "protocol twilio is always 8000"},
      {"42 agent[0].allow_patterns", "numbers are dialled through trunk carrier, which has no address"},
      {"42 agent[0].allow_patterns[0]", "'*' is not '+' and digits"},
      {"43 agent[0].refer_timeout_s", "must be from 1 to 600, got 0"},
      {"44 agent[0].on_failure", "no default_forward"},
      {"48 agent[0].target[0].uri", "must be a sip:, sips: or tel: URI"},
      {"49 agent[0].target[0].via", "'nowhere' is not a configured trunk"},
      {"52 agent[0].target[1].name", "'support' is already used by agent[0].target[0].name"},
      {"54 agent[0].target[1].via", "trunk carrier has no address to dial through"},
      {"58 agent[1].numbers[0]", "'demo' is already routed to agent demo"},
      {"60 agent[1].default_forward", "'Craig' is not one of agent other's targets"},
      {"61 agent[1].tragets", "unknown key (did you mean 'target'?)"},
  };
  std::multimap<std::string, std::string> actual;
  for (const ConfigError& e : r.errors) {
    EXPECT_EQ(e.file, path);
    actual.emplace(std::to_string(e.line) + " " + e.key_path, e.message);
  }
  ASSERT_EQ(actual.size(), expected.size()) << all_errors(r);
  for (auto a = actual.cbegin(), e = expected.cbegin(); e != expected.cend(); ++a, ++e) {
    EXPECT_EQ(a->first, e->first) << all_errors(r);
    EXPECT_THAT(a->second, HasSubstr(e->second)) << a->first;
  }
}

TEST(ConfigTest, CheckConfigPrintsEachProblemAndExits2) {
  const std::string path = kData + "mistakes.toml";
  std::ostringstream out, err;
  EXPECT_EQ(check_config_command(path, out, err), 2);
  EXPECT_EQ(out.str(), "");
  EXPECT_THAT(err.str(), HasSubstr(path + ":3: server.sip_listen: needs a udp: address (TCP and TLS listen beside UDP, "
                                   "not instead of it)\n"));
  EXPECT_THAT(err.str(), HasSubstr(path + ":61: agent[1].tragets: unknown key (did you mean 'target'?)\n"));
  EXPECT_THAT(err.str(), HasSubstr(path + ":12: media.hold_music: cannot play '" + kData +
                                   "no-such-file.wav' as hold music: no such file\n"));
  const std::string text = err.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 35);  // one line per mistake in the file
}

TEST(ConfigTest, SecretsComeFromTheEnvironment) {
  const std::map<std::string, std::string> env = {{"WL_TEST_TRUNK_HOST", "sip.carrier.example"},
                                                   {"WL_TEST_CALLER_ID", "+27115550100"},
                                                   {"WL_TEST_PATH", "v1/stream"},
                                                   {"WL_TEST_TOKEN", "abc.def"}};
  EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  LoadResult r = load_config(kData + "secrets.toml", lookup);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 10);
  EXPECT_EQ(r.errors[0].key_path, "agent[0].fallback_message");
  EXPECT_EQ(r.errors[0].message, "environment variable WL_TEST_MISSING is not set");

  std::map<std::string, std::string> with_missing = env;
  with_missing["WL_TEST_MISSING"] = "bye";
  r = load_config(kData + "secrets.toml", [&](const std::string& name) -> std::optional<std::string> {
    auto it = with_missing.find(name);
    return it == with_missing.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->trunks[0].address.host, "sip.carrier.example");  // expanded, then checked
  EXPECT_EQ(r.config->trunks[0].address.port, 5062);
  EXPECT_EQ(r.config->trunks[0].caller_ids, std::vector<std::string>{"+27115550100"});
  EXPECT_EQ(r.config->agents[0].url, "ws://ai.example.com/v1/stream");
  EXPECT_EQ(r.config->agents[0].token, "abc.def");
  EXPECT_EQ(r.config->agents[0].fallback_message, "bye");
}

TEST(ConfigTest, SyntaxErrorReportsTomlLine) {
  const std::string path = kData + "syntax.toml";
  LoadResult r = load_config(path, no_env());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_THAT(r.errors[0].message, HasSubstr("syntax error"));
  EXPECT_THAT(format_config_error(r.errors[0]), HasSubstr(path + ":4: syntax error: "));
}

TEST(ConfigTest, MissingFileIsAnError) {
  const std::string path = kData + "no-such.toml";
  std::ostringstream out, err;
  EXPECT_EQ(check_config_command(path, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr(path + ": cannot read: "));
}

TEST(ConfigTest, WrongSectionShapesAreReported) {
  LoadResult r = load_text("server = 5\n[agent]\nname = \"x\"\n");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(format_config_error(r.errors[0]), kData + "inline.toml:1: server: expected a table ([server]), got an integer");
  EXPECT_EQ(format_config_error(r.errors[1]), kData + "inline.toml:2: agent: expected an array, got a table");
}

TEST(ConfigTest, CallerIdMustBeOneTheTrunkAllows) {
  LoadResult r = load_text(R"(
[[trunk]]
name = "carrier"
address = "sip.example.com"
caller_ids = ["+27115550100"]

[[agent]]
name = "a"
url = "ws://h"
caller_id = "+27115550199"
[[agent.target]]
name = "Craig"
uri = "tel:+27115550142"
caller_id = "+27115550100"
)");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 10);
  EXPECT_EQ(r.errors[0].key_path, "agent[0].caller_id");
  EXPECT_EQ(r.errors[0].message, "+27115550199 is not one of trunk carrier's caller_ids");
}

// docs/sip.md "SIP agents": the trunk whose address is the agent URI's host, not the first trunk.
TEST(ConfigTest, SipAgentIsDialledThroughTheTrunkAtItsAddress) {
  LoadResult r = load_text("[[trunk]]\nname = \"carrier\"\naddress = \"10.0.0.1\"\n"
                           "[[trunk]]\nname = \"ai\"\naddress = \"10.0.0.5:5070\"\ntransport = \"tls\"\n"
                           "[[agent]]\nname = \"a\"\nurl = \"sips:bot@10.0.0.5:5070\"\n"
                           "[[agent]]\nname = \"b\"\nurl = \"ws://h\"\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_TRUE(is_sip_agent(r.config->agents[0]));
  EXPECT_EQ(r.config->agents[0].trunk, "ai");
  EXPECT_FALSE(is_sip_agent(r.config->agents[1]));
  EXPECT_EQ(r.config->agents[1].trunk, "carrier");
}

TEST(ConfigTest, NumbersNeedATrunk) {
  LoadResult r = load_text("[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nallow_patterns = [\"+2711*\"]\n"
                           "[[agent.target]]\nname = \"C\"\nuri = \"tel:+27115550142\"\n");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].key_path, "agent[0].allow_patterns");
  EXPECT_EQ(r.errors[1].key_path, "agent[0].target[0].uri");
  EXPECT_THAT(r.errors[1].message, HasSubstr("needs a trunk"));
}

}  // namespace
}  // namespace warmline::server
