// The generator's pure parsers: /proc fields, the relay pairs file (the contract with the rtpengine
// script), the command line, and the report's JSON line (the plotting script's input).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "bench/load/options.hpp"
#include "bench/load/proc_stats.hpp"
#include "bench/load/relay_pairs.hpp"
#include "bench/load/report.hpp"

namespace warmline::load {
namespace {

TEST(ProcStats, CpuTicksCountFieldsAfterTheLastParenthesis) {
  // utime 1200 and stime 34 (fields 14 and 15); the command name holds a space and a ')'.
  const std::string stat = "4242 (war mline) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 1200 34 0 0 20 0 3 0 100 "
                           "1000000 2000 18446744073709551615\n";
  EXPECT_EQ(parse_stat_cpu_ticks(stat), 1234u);
  EXPECT_FALSE(parse_stat_cpu_ticks("4242 (short) S 1 2").has_value());
  EXPECT_FALSE(parse_stat_cpu_ticks("no parenthesis").has_value());
}

TEST(ProcStats, RssFromStatus) {
  EXPECT_EQ(parse_status_rss_kib("Name:\twarmline\nVmPeak:\t  99 kB\nVmRSS:\t   51234 kB\nThreads: 3\n"), 51234);
  EXPECT_FALSE(parse_status_rss_kib("Name:\tx\nVmSize:\t1 kB\n").has_value());
  EXPECT_TRUE(sample_process(0).has_value());  // this process
}

TEST(RelayPairs, ParsesPairsCommentsAndOptionalSendPort) {
  auto r = parse_relay_pairs("# rtpengine offer/answer\n127.0.0.1:30000 40000\n\n127.0.0.1:30002\t40002 41002\r\n");
  ASSERT_EQ(r.pairs.size(), 2u) << r.error;
  EXPECT_EQ(ntohs(r.pairs[0].send_to.sin_port), 30000);
  EXPECT_EQ(r.pairs[0].send_to.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(r.pairs[0].recv_port, 40000);
  EXPECT_EQ(r.pairs[0].send_port, 0);
  EXPECT_EQ(r.pairs[1].recv_port, 40002);
  EXPECT_EQ(r.pairs[1].send_port, 41002);
}

TEST(RelayPairs, RejectsMalformedLinesWithTheLineNumber) {
  for (const char* bad : {"127.0.0.1 40000\n", "127.0.0.1:30000\n", "127.0.0.1:30000 0\n",
                          "localhost:30000 40000\n", "127.0.0.1:30000 40000 1 2\n", "127.0.0.1:30000 70000\n"}) {
    auto r = parse_relay_pairs(std::string("# header\n") + bad);
    EXPECT_TRUE(r.pairs.empty()) << bad;
    EXPECT_EQ(r.error.rfind("2: ", 0), 0u) << r.error;
  }
  EXPECT_EQ(parse_relay_pairs("# nothing\n").error, "no pairs in the file");
}

TEST(Options, ParsesTheDocumentedCommandLine) {
  auto p = parse_options({"--gateway", "127.0.0.1:5070", "--calls", "500", "--ramp-cps", "100", "--hold-s", "20",
                          "--agent-listen", "127.0.0.1:9000", "--warmline-pid", "77", "--report", "out",
                          "--label", "ai-500", "--max-runtime-s", "90"});
  ASSERT_TRUE(p.options.has_value()) << p.error;
  EXPECT_EQ(p.options->gateway, "127.0.0.1:5070");
  EXPECT_EQ(p.options->calls, 500u);
  EXPECT_DOUBLE_EQ(p.options->ramp_cps, 100);
  EXPECT_EQ(p.options->warmline_pid, 77);
  EXPECT_EQ(p.options->label, "ai-500");
  EXPECT_DOUBLE_EQ(p.options->max_runtime_s, 90);
  EXPECT_TRUE(p.options->rtp_relay.empty());
}

TEST(Options, RejectsUnknownAndMalformed) {
  EXPECT_EQ(parse_options({"--calls", "ten"}).error, "bad value for --calls: 'ten'");
  EXPECT_EQ(parse_options({"--calls", "0"}).error, "bad value for --calls: '0'");
  EXPECT_EQ(parse_options({"--hold-s"}).error, "--hold-s needs a value");
  EXPECT_EQ(parse_options({"--bogus", "1"}).error, "unknown option '--bogus'");
  EXPECT_TRUE(parse_options({"--help"}).help);
  auto relay = parse_options({"--rtp-relay", "pairs.txt", "--relay-pid", "5"});
  ASSERT_TRUE(relay.options.has_value());
  EXPECT_EQ(relay.options->calls, 0u);  // every pair in the file
}

TEST(Options, BridgedModeNamesTheTargetAndWhereTheGeneratorAnswersIt) {
  auto p = parse_options({"--bridge", "desk", "--target-listen", "127.0.0.1:25090", "--calls", "50"});
  ASSERT_TRUE(p.options.has_value()) << p.error;
  EXPECT_EQ(p.options->bridge_target, "desk");
  EXPECT_EQ(p.options->target_listen, "127.0.0.1:25090");
  EXPECT_EQ(parse_options({"--bridge", "desk"}).options->target_listen, "127.0.0.1:5090");
  EXPECT_EQ(parse_options({"--bridge", "desk", "--rtp-relay", "pairs.txt"}).error,
            "--bridge and --rtp-relay are different runs: give one");
  EXPECT_EQ(parse_options({"--bridge", ""}).error, "bad value for --bridge: ''");
}

TEST(Options, WarmTransfersAndAListeningAgentShapeTheBridgedModesTransfer) {
  auto p = parse_options({"--bridge", "desk", "--transfer-mode", "warm", "--after-bridge", "listen"});
  ASSERT_TRUE(p.options.has_value()) << p.error;
  EXPECT_EQ(p.options->transfer_mode, "warm");
  EXPECT_EQ(p.options->after_bridge, "listen");
  auto cold = parse_options({"--bridge", "desk"});
  EXPECT_EQ(cold.options->transfer_mode, "cold");
  EXPECT_EQ(cold.options->after_bridge, "leave");
  EXPECT_EQ(parse_options({"--bridge", "desk", "--transfer-mode", "semi"}).error,
            "bad value for --transfer-mode: 'semi'");
  EXPECT_EQ(parse_options({"--transfer-mode", "warm"}).error,
            "--transfer-mode and --after-bridge shape the transfer of --bridge: give --bridge too");
}

TEST(Report, JsonLineCarriesThePlottedKeys) {
  RunResult r;
  r.label = "ai \"500\"";
  r.mode = "gateway";
  r.calls = 500;
  r.calls_up = 499;
  r.in = {100, 80.0, 120.0, 300.0, 900.0};
  r.peer_cpu_cores = 0.5;
  const std::string line = json_line(r);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_NE(line.find("\"label\":\"ai \\\"500\\\"\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"calls_up\":499"), std::string::npos);
  EXPECT_NE(line.find("\"in\":{\"count\":100,\"p50_us\":80.0,\"p90_us\":120.0,\"p99_us\":300.0,\"max_us\":900.0}"),
            std::string::npos) << line;
  EXPECT_NE(line.find("\"peer_cpu_cores\":0.5000"), std::string::npos);
  // One Markdown row with as many cells as the header has columns.
  const std::string header = markdown_header();
  const std::string row = markdown_row(r);
  auto cells = [](const std::string& s) { return std::count(s.begin(), s.begin() + s.find('\n'), '|'); };
  EXPECT_EQ(cells(row), cells(header));
  EXPECT_EQ(line.find("\"bridged\""), std::string::npos) << "bridged keys belong to bridged runs";
}

TEST(Report, BridgedRunsCarryTheTransferFiguresAndShowOutInMilliseconds) {
  RunResult r;
  r.mode = "bridged";
  r.calls = r.calls_up = r.bridged = 500;
  r.transfers = 500;
  r.out = {1000, 41.0, 60.0, 250.0, 900.0};
  r.transfer_to_ack = {500, 21000.0, 25000.0, 32000.0, 40000.0};
  r.setup_cpu_ms_per_transfer = 0.4567;
  const std::string line = json_line(r);
  EXPECT_NE(line.find("\"bridged\":500,\"transfers\":500,\"transfers_failed\":0"), std::string::npos) << line;
  EXPECT_NE(line.find("\"transfer_to_ack\":{\"count\":500,\"p50_us\":21000.0"), std::string::npos) << line;
  EXPECT_NE(line.find("\"setup_cpu_ms_per_transfer\":0.457"), std::string::npos) << line;
  const std::string row = markdown_row(r);
  EXPECT_NE(row.find("| 0.041 / 0.250 |"), std::string::npos) << row;  // out p50 / p99 in ms, µs visible
}

}  // namespace
TEST(Options, SrtpIsAFlagOfGatewayAndBridgedRuns) {
  EXPECT_FALSE(parse_options({"--calls", "5"}).options->srtp);
  auto o = parse_options({"--srtp", "--calls", "5"});
  ASSERT_TRUE(o.options) << o.error;
  EXPECT_TRUE(o.options->srtp);
  EXPECT_EQ(o.options->calls, 5u);
  EXPECT_TRUE(parse_options({"--bridge", "desk", "--srtp"}).options);
  EXPECT_EQ(parse_options({"--rtp-relay", "pairs.txt", "--srtp"}).error,
            "--srtp is for the callers of a gateway run, not --rtp-relay");
}

TEST(Report, SrtpRunsCarryTheirCounters) {
  RunResult r;
  r.mode = "gateway";
  EXPECT_NE(json_line(r).find("\"srtp\":false,\"sip_transport\":\"udp\",\"ramp_s\""), std::string::npos) << json_line(r);
  r.srtp = true;
  r.srtp_calls = 300;
  r.srtp_refused = 1;
  r.srtp_error = "answer without SRTP keys";
  r.srtp_unprotect_failed = 7;
  const std::string line = json_line(r);
  EXPECT_NE(line.find("\"srtp\":true,\"srtp_calls\":300,\"srtp_refused\":1,\"srtp_protect_failed\":0,"
                      "\"srtp_unprotect_failed\":7"),
            std::string::npos)
      << line;
  EXPECT_NE(summary(r).find("SRTP: 300 calls keyed, 1 answers refused (answer without SRTP keys), 0 packets not "
                            "protected, 7 failed to unprotect;"),
            std::string::npos)
      << summary(r);
}

TEST(Options, TlsIsAFlagOfGatewayAndBridgedRunsAndTheCaNeedsIt) {
  EXPECT_FALSE(parse_options({"--calls", "5"}).options->tls);
  auto o = parse_options({"--tls", "--tls-ca", "ca.pem", "--gateway", "127.0.0.1:5061"});
  ASSERT_TRUE(o.options) << o.error;
  EXPECT_TRUE(o.options->tls);
  EXPECT_EQ(o.options->tls_ca, "ca.pem");
  EXPECT_TRUE(parse_options({"--tls"}).options) << "verification off: a lab run";
  EXPECT_TRUE(parse_options({"--bridge", "desk", "--tls"}).options);
  EXPECT_EQ(parse_options({"--tls-ca", "ca.pem"}).error,
            "--tls-ca verifies the gateway's certificate over --tls: give --tls too");
  EXPECT_EQ(parse_options({"--rtp-relay", "pairs.txt", "--tls"}).error,
            "--tls is for the callers of a gateway run, not --rtp-relay");
  EXPECT_EQ(parse_options({"--tls", "--tls-ca"}).error, "--tls-ca needs a value");
}

TEST(Report, TlsRunsAndTheSetupCpuPerCall) {
  RunResult r;
  r.mode = "gateway";
  EXPECT_EQ(summary(r).find("SIP over TLS"), std::string::npos);
  EXPECT_EQ(summary(r).find("set-up:"), std::string::npos) << "no figure without the gateway's pid";
  r.sip_transport = "tls";
  r.tls_cipher = "TLS_AES_256_GCM_SHA384";
  r.transport_failures = 1;
  r.transport_error = "the gateway closed the TLS connection";
  r.ramp_s = 2;
  r.ramp_cpu_s = 0.5;
  r.ai_call_cpu_cores = 0.1;
  r.setup_cpu_ms_per_call = 0.45;
  const std::string line = json_line(r);
  EXPECT_NE(line.find("\"sip_transport\":\"tls\",\"tls_cipher\":\"TLS_AES_256_GCM_SHA384\",\"transport_failures\":1,"
                      "\"transport_error\":\"the gateway closed the TLS connection\",\"ramp_s\":2.000,\"ramp_cpu_s\":0.5000,"
                      "\"ai_call_cpu_cores\":0.1000,\"setup_cpu_ms_per_call\":0.4500"),
            std::string::npos)
      << line;
  EXPECT_NE(summary(r).find("SIP over TLS (TLS_AES_256_GCM_SHA384), 1 connection failures (the gateway closed the "
                            "TLS connection); set-up: ramp 2.00 s, gateway CPU 0.500 s (calls up 0.100 cores after) "
                            "=> 0.450 ms CPU per call;"),
            std::string::npos)
      << summary(r);
}

}  // namespace warmline::load
