// One value per case: each key's accepted and refused values (config_test.cpp checks whole files,
// defaults, line numbers and the check-config command).
#include "server/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

LoadResult load_text(std::string_view text) {
  return load_config_text(text, std::string(WARMLINE_TEST_DATA) + "/config/inline.toml",
                          [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += format_config_error(e) + "\n";
  return out;
}

struct ValueCase {
  std::string name;  // the test's name: ConfigValueTest.ChecksValue/<name>
  std::string toml;
  std::string message;  // "" = valid
};

// GoogleTest shows this (not the struct's bytes) as GetParam() in test lists and failures.
void PrintTo(const ValueCase& c, std::ostream* os) { *os << c.name; }

class ConfigValueTest : public ::testing::TestWithParam<ValueCase> {};

TEST_P(ConfigValueTest, ChecksValue) {
  LoadResult r = load_text(GetParam().toml);
  if (GetParam().message.empty()) {
    EXPECT_TRUE(r.ok()) << all_errors(r);
  } else {
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_THAT(r.errors[0].message, HasSubstr(GetParam().message));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigValueTest,
    ::testing::Values(
        ValueCase{"ListenWithoutPortIs5060", "[server]\nsip_listen = [\"udp:127.0.0.1\"]", ""},
        ValueCase{"ListenUnknownTransport", "[server]\nsip_listen = [\"sctp:127.0.0.1:5060\"]", "unknown transport 'sctp'"},
        ValueCase{"ListenPortTooHigh", "[server]\nsip_listen = [\"udp:127.0.0.1:70000\"]", "port '70000'"},
        ValueCase{"ListenEmpty", "[server]\nsip_listen = []", "needs at least one address"},
        ValueCase{"ListenTcpWithoutUdp", "[server]\nsip_listen = [\"tcp:127.0.0.1:5060\"]", "needs a udp: address"},
        ValueCase{"ListenUdpAndTcp", "[server]\nsip_listen = [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5060\"]", ""},
        ValueCase{"ListenTwoUdp", "[server]\nsip_listen = [\"udp:127.0.0.1:5060\", \"udp:127.0.0.1:5062\"]",
                  "a second udp address is not implemented yet; keep one per transport"},
        ValueCase{"ListenTlsWithoutCert", "[server]\nsip_listen = [\"udp:127.0.0.1:5060\", \"tls:127.0.0.1\"]\n"
                  "tls_key = \"/nonexistent/key.pem\"", "a tls: address needs [server] tls_cert"},
        ValueCase{"ListenTlsWithoutKey", "[server]\nsip_listen = [\"udp:127.0.0.1:5060\", \"tls:127.0.0.1\"]\n"
                  "tls_cert = \"/nonexistent/cert.pem\"", "a tls: address needs [server] tls_key"},
        ValueCase{"ListenTlsCertNotAFile", "[server]\nsip_listen = [\"udp:127.0.0.1:5060\", \"tls:127.0.0.1\"]\n"
                  "tls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"",
                  "tls_cert: cannot use '/nonexistent/cert.pem' as a PEM certificate chain"},
        ValueCase{"RtpPortsSinglePort", "[server]\nrtp_ports = \"20000-20000\"", "fewer than 2 ports"},
        ValueCase{"RtpPortsNotARange", "[server]\nrtp_ports = \"20000\"", "is not a range"},
        ValueCase{"ShardsFloat", "[server]\nshards = 1.5", "expected an integer, got a float"},
        ValueCase{"HttpIpv6", "[server]\nhttp = \"[::1]:8080\"", ""},
        ValueCase{"MaxCallsZeroIsUnlimited", "[server]\nmax_calls = 0", ""},
        ValueCase{"MaxCallsNegative", "[server]\nmax_calls = -1", "must be from 0 to 1000000, got -1"},
        ValueCase{"MaxCallsString", "[server]\nmax_calls = \"100\"", "expected an integer, got a string"},
        ValueCase{"DrainExitTrue", "[server]\ndrain_exit = true", ""},
        ValueCase{"DrainExitNotBoolean", "[server]\ndrain_exit = 1", "expected true or false, got an integer"},
        ValueCase{"RetryAfterLowest", "[server]\nretry_after_s = 1", ""},
        ValueCase{"RetryAfterHighest", "[server]\nretry_after_s = 3600", ""},
        ValueCase{"RetryAfterZero", "[server]\nretry_after_s = 0", "must be from 1 to 3600, got 0"},
        ValueCase{"RetryAfterTooHigh", "[server]\nretry_after_s = 3601", "must be from 1 to 3600, got 3601"},
        ValueCase{"TrunkMappedAndAnyCidrs", "[[trunk]]\nname = \"t\"\nsource_cidrs = [\"::ffff:0:0/96\", \"0.0.0.0/0\"]", ""},
        ValueCase{"TrunkRegister", "[[trunk]]\nname = \"t\"\naddress = \"h:5080\"\nusername = \"u\"\npassword = \"p\"\n"
                  "register = true\nregister_expires_s = 600", ""},
        ValueCase{"TrunkRegisterWithoutAddress", "[[trunk]]\nname = \"t\"\nusername = \"u\"\npassword = \"p\"\nregister = true",
                  "register = true needs the trunk's address"},
        ValueCase{"TrunkAcceptsReferFromPeer", "[[trunk]]\nname = \"t\"\naddress = \"h\"\naccepts_refer_from_peer = true", ""},
        ValueCase{"TrunkAcceptsReferFromPeerInboundOnly",
                  "[[trunk]]\nname = \"t\"\nsource_cidrs = [\"10.0.0.0/8\"]\naccepts_refer_from_peer = true", ""},
        ValueCase{"TrunkAcceptsReferFromPeerWithoutAddress", "[[trunk]]\nname = \"t\"\naccepts_refer_from_peer = true",
                  "accepts_refer_from_peer = true needs the trunk's address"},
        ValueCase{"TrunkAcceptsReferFromPeerString", "[[trunk]]\nname = \"t\"\naddress = \"h\"\naccepts_refer_from_peer = \"yes\"",
                  "expected true or false, got a string"},
        ValueCase{"TrunkRegisterWithoutCredentials", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nregister = true",
                  "register = true needs username and password"},
        ValueCase{"TrunkRegisterUsernameNotAUser", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nusername = \"a b\"\n"
                  "password = \"p\"\nregister = true", "'a b' is not a number or SIP user name"},
        ValueCase{"TrunkRegisterExpiresTooShort", "[[trunk]]\nname = \"t\"\nregister_expires_s = 59", "must be from 60 to 86400, got 59"},
        ValueCase{"TrunkRegisterExpiresTooLong", "[[trunk]]\nname = \"t\"\nregister_expires_s = 86401", "must be from 60 to 86400"},
        ValueCase{"TrunkPingOff", "[[trunk]]\nname = \"t\"\nping_interval_s = 0", ""},
        ValueCase{"TrunkPingLowest", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = 5", ""},
        ValueCase{"TrunkPingHighest", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = 3600", ""},
        ValueCase{"TrunkPingTooOften", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = 4",
                  "must be 0 (off) or from 5 to 3600, got 4"},
        ValueCase{"TrunkPingTooRare", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = 3601",
                  "must be from 0 to 3600, got 3601"},
        ValueCase{"TrunkPingNegative", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = -5",
                  "must be from 0 to 3600, got -5"},
        ValueCase{"TrunkPingNotInteger", "[[trunk]]\nname = \"t\"\naddress = \"h\"\nping_interval_s = \"30\"",
                  "expected an integer, got a string"},
        ValueCase{"TrunkPingWithoutAddress", "[[trunk]]\nname = \"t\"\nping_interval_s = 30",
                  "ping_interval_s needs the trunk's address"},
        ValueCase{"TrunkCredentials", "[[trunk]]\nname = \"t\"\nusername = \"u\"\npassword = \"p\"", ""},
        ValueCase{"TrunkUsernameWithoutPassword", "[[trunk]]\nname = \"t\"\nusername = \"u\"",
                  "username and password go together"},
        ValueCase{"TrunkNumberFormatNoPlus", "[[trunk]]\nname = \"t\"\nnumber_format = \"no_plus\"", ""},
        ValueCase{"TrunkNumberFormatUnknown", "[[trunk]]\nname = \"t\"\nnumber_format = \"national\"", "is not one of"},
        ValueCase{"TrunkSrtpOff", "[[trunk]]\nname = \"t\"\nsrtp = \"off\"", ""},
        ValueCase{"TrunkSrtpOptional", "[[trunk]]\nname = \"t\"\nsrtp = \"optional\"", ""},
        ValueCase{"TrunkSrtpRequired", "[[trunk]]\nname = \"t\"\nsrtp = \"required\"", ""},
        ValueCase{"TrunkSrtpUnknown", "[[trunk]]\nname = \"t\"\nsrtp = \"yes\"", "is not one of"},
        ValueCase{"TrunkSessionTimerOff", "[[trunk]]\nname = \"t\"\nsession_timer_s = 0", ""},
        ValueCase{"TrunkSessionTimerMinSe", "[[trunk]]\nname = \"t\"\nsession_timer_s = 90", ""},
        ValueCase{"TrunkSessionTimerBelowMinSe", "[[trunk]]\nname = \"t\"\nsession_timer_s = 89",
                  "must be 0 (off) or from 90 (RFC 4028's smallest Min-SE) to 86400, got 89"},
        ValueCase{"TrunkSessionTimerTooLong", "[[trunk]]\nname = \"t\"\nsession_timer_s = 86401", "must be from 0 to 86400"},
        ValueCase{"TrunkTechPrefix", "[[trunk]]\nname = \"t\"\ntech_prefix = \"1010#\"", ""},
        ValueCase{"TrunkTechPrefixLetters", "[[trunk]]\nname = \"t\"\ntech_prefix = \"10a\"", "not a digit"},
        ValueCase{"AgentReferFallbackAgent", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nrefer_fallback = \"agent\"", ""},
        ValueCase{"AgentReferInModeWarm", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nrefer_in_mode = \"warm\"", ""},
        ValueCase{"AgentReferInModeUnknown", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nrefer_in_mode = \"semi\"", "is not one of"},
        ValueCase{"AgentReferFallbackUnknown", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nrefer_fallback = \"x\"", "is not one of"},
        ValueCase{"AgentRingTimeoutZero", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nring_timeout_s = 0", "must be from 1 to 600"},
        ValueCase{"AgentStallTimeoutZero", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nstall_timeout_s = 0", "must be from 1 to 600"},
        ValueCase{"AgentStallTimeout", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nstall_timeout_s = 2", ""},
        ValueCase{"AgentDeclineIsFinalFalse", "[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\ndecline_is_final = false", ""},
        ValueCase{"TrunkTls", "[[trunk]]\nname = \"t\"\ntransport = \"tls\"\ntls_verify = false", ""},
        ValueCase{"TrunkTcp", "[[trunk]]\nname = \"t\"\ntransport = \"tcp\"", ""},
        ValueCase{"TrunkTlsVerifyOnUdp", "[[trunk]]\nname = \"t\"\ntls_verify = false", "only for transport = \"tls\""},
        ValueCase{"TrunkTlsCaNotAFile", "[[trunk]]\nname = \"t\"\ntransport = \"tls\"\ntls_ca = \"/nonexistent/ca.pem\"",
                  "cannot use '/nonexistent/ca.pem' as PEM CA certificates"},
        ValueCase{"TrunkAcceptsReferString", "[[trunk]]\nname = \"t\"\naccepts_refer = \"yes\"", "expected true or false, got a string"},
        ValueCase{"TrunkWithoutName", "[[trunk]]\naddress = \"h\"", "missing (required)"},
        ValueCase{"CallerId15Digits", "[[trunk]]\nname = \"t\"\ncaller_ids = [\"+123456789012345\"]", ""},
        ValueCase{"CallerId16Digits", "[[trunk]]\nname = \"t\"\ncaller_ids = [\"+1234567890123456\"]", "not an E.164 number"},
        ValueCase{"CallerIdLeadingZero", "[[trunk]]\nname = \"t\"\ncaller_ids = [\"+0123456789\"]", "not an E.164 number"},
        ValueCase{"AgentWithoutUrl", "[[agent]]\nname = \"a\"", "missing (required)"},
        ValueCase{"AgentUrlWithoutHost", "[[agent]]\nname = \"a\"\nurl = \"wss://\"", "URL host"},
        ValueCase{"AgentUrlWssNotAvailable", "[[agent]]\nname = \"a\"\nurl = \"wss://h/s\"", "use ws://"},
        ValueCase{"AgentSipUrlThroughTheTrunkAtItsAddress",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5:5070\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@10.0.0.5:5070\"", ""},
        ValueCase{"AgentSipUrlThroughItsNamedTrunk",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@ai.example\"\ntrunk = \"t\"", ""},
        ValueCase{"AgentSipUrlWithoutATrunk", "[[agent]]\nname = \"a\"\nurl = \"sip:bot@10.0.0.5\"",
                  "a sip: agent is dialled through a trunk: set trunk, or use the address of a configured [[trunk]] "
                  "(none has address 10.0.0.5)"},
        ValueCase{"AgentSipUrlOnAnotherPortThanTheTrunk",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5:5070\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@10.0.0.5:5080\"",
                  "(none has address 10.0.0.5:5080)"},
        ValueCase{"AgentSipUrlTrunkWithoutAddress",
                  "[[trunk]]\nname = \"t\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@ai.example\"\ntrunk = \"t\"",
                  "trunk t has no address to dial the agent through"},
        ValueCase{"AgentSipsUrlThroughAUdpTrunk",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5\"\n[[agent]]\nname = \"a\"\nurl = \"sips:bot@10.0.0.5\"",
                  "a sips: agent needs a trunk with transport = \"tls\" (trunk t is udp)"},
        ValueCase{"AgentSipUrlWithToken",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@10.0.0.5\"\ntoken = \"x\"",
                  "only for a WebSocket agent"},
        ValueCase{"AgentSipUrlWithProtocol",
                  "[[trunk]]\nname = \"t\"\naddress = \"10.0.0.5\"\n[[agent]]\nname = \"a\"\nurl = \"sip:bot@10.0.0.5\"\nprotocol = \"twilio\"",
                  "only for a WebSocket agent"},
        ValueCase{"AgentTelUrl", "[[agent]]\nname = \"a\"\nurl = \"tel:+27115550100\"", "must start with ws://, wss://, sip: or sips:"},
        ValueCase{"AgentUrlWithSpace", "[[agent]]\nname = \"a\"\nurl = \"ws://h/a b\"", "space or control character"},
        ValueCase{"AgentAccountIdWithNativeProtocol", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\naccount_id = \"AC1\"",
                  "only for a provider dialect"},
        ValueCase{"AgentParametersWithNativeProtocol", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\n[agent.parameters]\nk = \"v\"",
                  "only for a provider dialect"},
        ValueCase{"AgentUnknownProtocol", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"signalwire\"",
                  "'signalwire' is not one of: warmline, twilio, telnyx, plivo, exotel, vonage"},
        ValueCase{"AgentVonageIs16k", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"vonage\"\nsample_rate = 8000",
                  "protocol vonage is always 16000 Hz"},
        ValueCase{"AgentTwilioApiKeyNeedsAccount", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"twilio\"\napi_key = \"k\"",
                  "needs account_id"},
        ValueCase{"AgentExotelHasNoRest", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"exotel\"\napi_key = \"k\"",
                  "no REST call control"},
        ValueCase{"AgentParameterNotAString", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"twilio\"\n[agent.parameters]\nk = 1",
                  "expected a string"},
        ValueCase{"AgentSampleRate44100", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nsample_rate = 44100", "44100 is not 8000, 16000 or 24000"},
        ValueCase{"AgentNumberWithSpace", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nnumbers = [\"bad user\"]", "not a number or SIP user name"},
        ValueCase{"EnvNameStartsWithDigit", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\ntoken = \"${1X}\"", "not an environment variable name"},
        ValueCase{"TargetEmptyUser", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\n[[agent.target]]\nname = \"x\"\nuri = \"sip:@h\"",
                  "empty user part"},
        ValueCase{"TargetSipsIpv6", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\n[[agent.target]]\nname = \"x\"\nuri = \"sips:x@[::1]:5061\"", ""},
        ValueCase{"AgentNameCaseInsensitiveDuplicate", "[[agent]]\nname = \"a\"\nurl = \"ws://h\"\n[[agent]]\nname = \"A\"\nurl = \"ws://h\"",
                  "agent name 'A' is already used by agent[0].name"},
        ValueCase{"ExtensionNumberTwice", "[[pbx]]\nname = \"p\"\ndomain = \"pbx\"\ntrunk = \"t\"\n[[trunk]]\nname = \"t\"\n"
                  "[[pbx.extension]]\nnumber = 1\n[[pbx.extension]]\nnumber = \"1\"",
                  "extension 1 is already pbx[0].extension[0]"},
        ValueCase{"CodecsNotAnArray", "[media]\ncodecs = \"PCMU\"", "expected an array, got a string"},
        ValueCase{"TrunkCodecsOpus", "[media]\ncodecs = [\"PCMU\", \"opus\"]\n[[trunk]]\nname = \"t\"\naddress = \"h:5060\"\n"
                  "codecs = [\"OPUS\"]", ""},
        ValueCase{"TrunkCodecNotInMedia", "[[trunk]]\nname = \"t\"\naddress = \"h:5060\"\ncodecs = [\"opus\"]",
                  "'opus' is not one of [media] codecs"},
        ValueCase{"TrunkCodecUnknown", "[[trunk]]\nname = \"t\"\naddress = \"h:5060\"\ncodecs = [\"GSM\"]",
                  "unknown codec 'GSM' (PCMU, PCMA, G722, opus)"},
        ValueCase{"TrunkMinSe", "[[trunk]]\nname = \"t\"\nsession_min_se_s = 1800", ""},
        ValueCase{"TrunkMinSeBelow90", "[[trunk]]\nname = \"t\"\nsession_min_se_s = 60", "from 90 to 86400"},
        ValueCase{"TrunkMinSeAboveTimer", "[[trunk]]\nname = \"t\"\nsession_timer_s = 600\nsession_min_se_s = 1200",
                  "1200 is above session_timer_s (600)"},
        ValueCase{"TrunkCodecsEmpty", "[[trunk]]\nname = \"t\"\naddress = \"h:5060\"\ncodecs = []", "needs at least one codec"},
        ValueCase{"RtpIoUnknown", "[media]\nrtp_io = \"uring\"", "'uring' is not one of: batched, plain"},
        ValueCase{"TickSlotsZero", "[media]\ntick_slots = 0", "must be from 1 to 20, got 0"},
        ValueCase{"TickSlotsAboveTwenty", "[media]\ntick_slots = 21", "must be from 1 to 20, got 21"},
        ValueCase{"TickSlotsOne", "[media]\ntick_slots = 1", ""}),
    [](const ::testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

}  // namespace
}  // namespace warmline::server
