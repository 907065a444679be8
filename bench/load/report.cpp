#include "bench/load/report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace warmline::load {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string or_dash(bool have, const std::string& text) { return have ? text : "-"; }

std::string pair(const Percentiles& p, double scale, int decimals, bool have) {
  return or_dash(have && p.count > 0, fixed(p.p50_us * scale, decimals) + " / " + fixed(p.p99_us * scale, decimals));
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void json_percentiles(std::string& out, const std::string& key, const Percentiles& p) {
  out += ",\"" + key + "\":{\"count\":" + std::to_string(p.count) + ",\"p50_us\":" + fixed(p.p50_us, 1) +
         ",\"p90_us\":" + fixed(p.p90_us, 1) + ",\"p99_us\":" + fixed(p.p99_us, 1) + ",\"max_us\":" + fixed(p.max_us, 1) +
         "}";
}

void json_number(std::string& out, const std::string& key, double v, int decimals) {
  out += ",\"" + key + "\":" + fixed(v, decimals);
}

}  // namespace

std::string markdown_header() {
  return "| date (UTC) | label | mode | calls up / asked | setup p50 / p99 ms | failed | retransmits | "
         "in p50 / p99 µs | in max µs | in loss % | out p50 / p99 ms | out beyond tick p50 / p99 µs | "
         "out loss % | peer CPU % core | % core per call | RSS KiB per call | generator CPU % core | "
         "load avg |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
}

std::string markdown_row(const RunResult& r) {
  const bool gateway = r.mode == "gateway";
  const bool sip = r.mode != "relay";  // gateway or bridged: calls were set up, audio came back
  const bool peer = r.peer_cpu_cores >= 0;
  std::string row = "| " + r.date + " | " + r.label + (r.aborted ? " (aborted)" : "") + " | " + r.mode + " | " +
                    std::to_string(r.calls_up) + " / " + std::to_string(r.calls) + " | " +
                    or_dash(sip, pair(r.setup, 1e-3, 1, true)) + " | " +
                    std::to_string(r.failed + r.timeouts) + " | " +
                    std::to_string(r.invite_retransmits + r.bye_retransmits) + " | " +
                    pair(r.in, 1, 0, r.stamped) + " | " + or_dash(r.stamped && r.in.count > 0, fixed(r.in.max_us, 0)) + " | " +
                    fixed(r.in_loss_pct, 3) + " | " + or_dash(sip, pair(r.out, 1e-3, r.mode == "bridged" ? 3 : 2, r.stamped)) + " | " +
                    or_dash(gateway, pair(r.out_beyond_tick, 1, 0, r.stamped)) + " | " +
                    or_dash(sip && r.stamped, fixed(r.out_loss_pct, 3)) + " | " + or_dash(peer, fixed(r.peer_cpu_cores * 100, 1)) +
                    " | " + or_dash(peer, fixed(r.peer_cpu_pct_per_call, 3)) + " | " +
                    or_dash(r.peer_rss_kib_per_call >= 0, fixed(r.peer_rss_kib_per_call, 1)) + " | " +
                    fixed(r.gen_cpu_cores * 100, 1) + " | " + r.host_load + " |\n";
  return row;
}

std::string json_line(const RunResult& r) {
  std::string out = "{\"date\":" + json_string(r.date) + ",\"label\":" + json_string(r.label) +
                    ",\"mode\":" + json_string(r.mode) + ",\"aborted\":" + (r.aborted ? "true" : "false") +
                    ",\"stamped\":" + (r.stamped ? "true" : "false") + ",\"calls\":" + std::to_string(r.calls) +
                    ",\"calls_up\":" + std::to_string(r.calls_up) + ",\"failed\":" + std::to_string(r.failed) +
                    ",\"timeouts\":" + std::to_string(r.timeouts) +
                    ",\"last_failure_status\":" + std::to_string(r.last_failure_status) + ",\"dropped\":" + std::to_string(r.dropped) +
                    ",\"invite_retransmits\":" + std::to_string(r.invite_retransmits) +
                    ",\"bye_retransmits\":" + std::to_string(r.bye_retransmits) +
                    ",\"bye_failed\":" + std::to_string(r.bye_failed) + ",\"host_load\":" + json_string(r.host_load);
  out += std::string(",\"srtp\":") + (r.srtp ? "true" : "false");
  if (r.srtp) {
    out += ",\"srtp_calls\":" + std::to_string(r.srtp_calls) + ",\"srtp_refused\":" + std::to_string(r.srtp_refused) +
           ",\"srtp_protect_failed\":" + std::to_string(r.srtp_protect_failed) +
           ",\"srtp_unprotect_failed\":" + std::to_string(r.srtp_unprotect_failed);
  }
  out += ",\"sip_transport\":" + json_string(r.sip_transport);
  if (r.sip_transport == "tls") {
    out += ",\"tls_cipher\":" + json_string(r.tls_cipher) + ",\"transport_failures\":" +
           std::to_string(r.transport_failures) + ",\"transport_error\":" + json_string(r.transport_error);
  }
  json_number(out, "ramp_s", r.ramp_s, 3);
  json_number(out, "ramp_cpu_s", r.ramp_cpu_s, 4);
  json_number(out, "ai_call_cpu_cores", r.ai_call_cpu_cores, 4);
  json_number(out, "setup_cpu_ms_per_call", r.setup_cpu_ms_per_call, 4);
  json_number(out, "window_s", r.window_s, 3);
  json_percentiles(out, "setup", r.setup);
  json_percentiles(out, "in", r.in);
  json_number(out, "in_loss_pct", r.in_loss_pct, 4);
  out += ",\"in_sent\":" + std::to_string(r.in_sent) + ",\"in_received\":" + std::to_string(r.in_received) +
         ",\"in_out_of_order\":" + std::to_string(r.in_out_of_order) +
         ",\"in_coalesced\":" + std::to_string(r.in_coalesced);
  json_percentiles(out, "out", r.out);
  json_percentiles(out, "out_beyond_tick", r.out_beyond_tick);
  json_percentiles(out, "out_queued", r.out_queued);
  json_number(out, "out_loss_pct", r.out_loss_pct, 4);
  out += ",\"out_sent\":" + std::to_string(r.out_sent) + ",\"out_received\":" + std::to_string(r.out_received);
  json_number(out, "peer_cpu_cores", r.peer_cpu_cores, 4);
  json_number(out, "peer_cpu_pct_per_call", r.peer_cpu_pct_per_call, 5);
  json_number(out, "peer_rss_kib_per_call", r.peer_rss_kib_per_call, 2);
  out += ",\"peer_rss_kib\":" + std::to_string(r.peer_rss_kib);
  json_number(out, "gen_cpu_cores", r.gen_cpu_cores, 4);
  json_number(out, "max_send_lag_ms", r.max_send_lag_ms, 3);
  if (r.mode == "bridged") {
    out += ",\"bridged\":" + std::to_string(r.bridged) + ",\"transfers\":" + std::to_string(r.transfers) +
           ",\"transfers_failed\":" + std::to_string(r.transfers_failed);
    json_percentiles(out, "transfer_to_invite", r.transfer_to_invite);
    json_percentiles(out, "transfer_to_ack", r.transfer_to_ack);
    json_number(out, "transfer_phase_s", r.transfer_phase_s, 3);
    json_number(out, "transfer_cpu_s", r.transfer_cpu_s, 3);
    json_number(out, "ai_cpu_cores", r.ai_cpu_cores, 4);
    json_number(out, "setup_cpu_ms_per_transfer", r.setup_cpu_ms_per_transfer, 3);
  }
  return out + "}\n";
}

std::string summary(const RunResult& r) {
  std::string out = markdown_header() + markdown_row(r) + "in: " + std::to_string(r.in_received) + " of " +
                    std::to_string(r.in_sent) + " frames; ";
  if (r.mode == "gateway") {
    out += "out: " + std::to_string(r.out_received) + " of " + std::to_string(r.out_sent) + "; agent: " +
           std::to_string(r.in_out_of_order) + " out of order, " + std::to_string(r.in_coalesced) +
           " multi-frame messages; AI -> caller queued behind earlier frames p50 " +
           fixed(r.out_queued.p50_us / 1e3, 0) + " ms, p99 " + fixed(r.out_queued.p99_us / 1e3, 0) + " ms; ";
  }
  if (r.mode == "bridged") {
    out += "out: " + std::to_string(r.out_received) + " of " + std::to_string(r.out_sent) +
           "; bridged " + std::to_string(r.bridged) + ", transfers " + std::to_string(r.transfers) + " (" +
           std::to_string(r.transfers_failed) + " failed); transfer -> target INVITE p50 " +
           fixed(r.transfer_to_invite.p50_us / 1e3, 2) + " ms p99 " + fixed(r.transfer_to_invite.p99_us / 1e3, 2) +
           " ms, -> ACK p50 " + fixed(r.transfer_to_ack.p50_us / 1e3, 2) + " ms; transfer phase " +
           fixed(r.transfer_phase_s, 2) + " s, gateway CPU " + fixed(r.transfer_cpu_s, 2) + " s (AI calls " +
           fixed(r.ai_cpu_cores, 3) + " cores before, bridged " + fixed(r.peer_cpu_cores, 3) +
           " in the window) => " + fixed(r.setup_cpu_ms_per_transfer, 3) + " ms CPU per transfer; ";
  }
  if (r.srtp) {
    out += "SRTP: " + std::to_string(r.srtp_calls) + " calls keyed, " + std::to_string(r.srtp_refused) +
           " answers refused" + (r.srtp_error.empty() ? "" : " (" + r.srtp_error + ")") + ", " +
           std::to_string(r.srtp_protect_failed) + " packets not protected, " +
           std::to_string(r.srtp_unprotect_failed) + " failed to unprotect; ";
  }
  if (r.sip_transport == "tls")
    out += "SIP over TLS (" + r.tls_cipher + "), " + std::to_string(r.transport_failures) + " connection failures" +
           (r.transport_error.empty() ? "" : " (" + r.transport_error + ")") + "; ";
  if (r.setup_cpu_ms_per_call >= 0)
    out += "set-up: ramp " + fixed(r.ramp_s, 2) + " s, gateway CPU " + fixed(r.ramp_cpu_s, 3) + " s (calls up " +
           fixed(r.ai_call_cpu_cores, 3) + " cores after) => " + fixed(r.setup_cpu_ms_per_call, 3) + " ms CPU per call; ";
  return out + "window " + fixed(r.window_s, 1) + " s; worst send-slot lag " + fixed(r.max_send_lag_ms, 2) + " ms\n";
}

bool write_report(const std::string& dir, const RunResult& r, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  const auto md = std::filesystem::path(dir) / "results.md";
  const bool fresh = !std::filesystem::exists(md) || std::filesystem::file_size(md, ec) == 0;
  std::ofstream table(md, std::ios::app);
  std::ofstream lines(std::filesystem::path(dir) / "results.jsonl", std::ios::app);
  if (!table || !lines) {
    error = "cannot append to the report files in " + dir;
    return false;
  }
  if (fresh) table << markdown_header();
  table << markdown_row(r);
  lines << json_line(r);
  return static_cast<bool>(table) && static_cast<bool>(lines);
}

}  // namespace warmline::load
