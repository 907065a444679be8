#pragma once
// The end-of-run report: one row appended to DIR/results.md (a Markdown table, header written when
// the file is new), one JSON object per line appended to DIR/results.jsonl (the plotting script's
// input; keys documented in bench/README.md), and a summary on stdout.
#include <cstdint>
#include <string>

namespace warmline::load {

struct Percentiles {
  uint64_t count = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

struct RunResult {
  std::string label, mode, date, host_load;
  bool aborted = false;          // --max-runtime-s ran out before the run ended by itself
  bool stamped = true;           // latency matched (8 kHz agent); false: counts and CPU only
  uint32_t calls = 0, calls_up = 0;  // asked for; up when the steady window began
  int last_failure_status = 0;   // the SIP status of the last refused INVITE (0: none)
  uint64_t failed = 0, timeouts = 0, dropped = 0, invite_retransmits = 0, bye_retransmits = 0,
           bye_failed = 0;
  Percentiles setup;             // INVITE -> 200 OK
  // --srtp: the callers' RTP was SRTP. Calls keyed; answers without usable keys (and why, the last);
  // packets the callers could not protect, and received packets that failed to unprotect.
  bool srtp = false;
  uint64_t srtp_calls = 0, srtp_refused = 0, srtp_protect_failed = 0, srtp_unprotect_failed = 0;
  std::string srtp_error;
  // --tls: the callers' SIP went over one TLS connection (the suite negotiated); the connection's end or
  // a framing failure, counted (the run's calls then time out) with the reason.
  std::string sip_transport = "udp";
  std::string tls_cipher;
  uint64_t transport_failures = 0;
  std::string transport_error;
  // Call set-up cost: the gateway's CPU over the ramp (first INVITE until every call has its final
  // answer), less the media of the calls already up (half the AI calls' rate of the settle second after
  // it: the calls come up at an even pace), per answered call.
  double ramp_s = 0;
  double ramp_cpu_s = -1;
  double ai_call_cpu_cores = -1;  // the settle second's CPU rate (gateway and bridged modes alike)
  double setup_cpu_ms_per_call = -1;
  double window_s = 0;
  Percentiles in;                // caller -> AI (gateway) or leg A -> leg B (relay)
  double in_loss_pct = 0;
  uint64_t in_sent = 0, in_received = 0;
  // Agent side (stamped runs): stamps not newer than the call's last; messages of more than one frame.
  uint64_t in_out_of_order = 0, in_coalesced = 0;
  Percentiles out, out_beyond_tick;  // AI -> caller, measured and without the tick wait
  Percentiles out_queued;        // whole 20 ms ticks a frame waited behind earlier ones (standing queue)
  double out_loss_pct = 0;
  uint64_t out_sent = 0, out_received = 0;
  double peer_cpu_cores = -1;    // warmline's or the relay's CPU over the window (-1: no pid)
  double peer_cpu_pct_per_call = -1;
  double peer_rss_kib_per_call = -1;
  int64_t peer_rss_kib = -1;
  double gen_cpu_cores = 0;      // warmline-load itself over the window
  double max_send_lag_ms = 0;    // worst lateness of a 1 ms send slot (generator health)
  // Bridged mode (in = caller -> target, out = the target's echo -> caller, both through the relay).
  uint32_t bridged = 0;          // target legs up when the window began
  uint64_t transfers = 0, transfers_failed = 0;
  Percentiles transfer_to_invite, transfer_to_ack;  // agent's transfer sent -> target's INVITE / ACK
  double transfer_phase_s = 0;
  double transfer_cpu_s = -1;    // the gateway's CPU over the transfer phase (-1: no pid)
  double ai_cpu_cores = -1;      // the gateway's CPU rate in the settle second before it (AI calls)
  double setup_cpu_ms_per_transfer = -1;  // (transfer CPU - the media's share) / transfers
};

std::string markdown_header();
std::string markdown_row(const RunResult& r);
std::string json_line(const RunResult& r);
std::string summary(const RunResult& r);
// Appends to DIR/results.md and DIR/results.jsonl (creating DIR). False with a reason on I/O errors.
bool write_report(const std::string& dir, const RunResult& r, std::string& error);

}  // namespace warmline::load
