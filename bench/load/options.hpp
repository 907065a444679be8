#pragma once
// warmline-load's command line (documented in bench/README.md, "Load generator").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warmline::load {

struct Options {
  std::string gateway = "127.0.0.1:5060";
  std::string number = "load";        // Request-URI user the gateway routes to the agent
  uint32_t calls = 10;
  double ramp_cps = 50;
  double hold_s = 20;                  // the steady window, all calls up
  std::string agent_listen = "127.0.0.1:8765";
  int warmline_pid = 0;                // 0: no gateway CPU/RSS figures
  std::string report_dir;              // empty: no files, the summary on stdout only
  std::string label;
  double max_runtime_s = 300;
  std::string rtp_relay;               // relay mode: the pairs file
  int relay_pid = 0;
  // Bridged mode: once every call is up, the agent transfers each call (cold, bridged dial) to this
  // target name of the gateway's config, which points at --target-listen where the generator answers.
  std::string bridge_target;
  std::string target_listen = "127.0.0.1:5090";
  // The transfer's mode ("cold": a bridged dial; "warm": the caller held with music while the target
  // rings, screening none) and what the agent does once bridged ("leave", or "listen": it keeps
  // receiving both parties as stereo frames).
  std::string transfer_mode = "cold";
  std::string after_bridge = "leave";
  bool quiet = false;                  // no progress lines
  // The callers offer RTP/SAVP (AES_CM_128_HMAC_SHA1_80, SDES) and protect/unprotect their RTP with the
  // answer's keys: the gateway's caller legs run SRTP (its trunk needs srtp = "optional" or "required").
  bool srtp = false;
  // The callers' SIP goes over one TLS connection to --gateway (the gateway's tls: listener) instead of
  // UDP; --tls-ca: verify its certificate against that CA file (else verification is off: a lab run).
  bool tls = false;
  std::string tls_ca;
};

struct ParseOutcome {
  std::optional<Options> options;      // set when the command line is valid
  std::string error;                   // else why not
  bool help = false;
};

ParseOutcome parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace warmline::load
