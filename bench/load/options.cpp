#include "bench/load/options.hpp"

#include <charconv>
#include <functional>
#include <map>

namespace warmline::load {

namespace {

template <typename T>
bool number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end;
}

// Each option's setter: false when the value is malformed.
using Setter = std::function<bool(Options&, const std::string&)>;

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"--gateway", [](Options& o, const std::string& v) { o.gateway = v; return !v.empty(); }},
      {"--number", [](Options& o, const std::string& v) { o.number = v; return !v.empty(); }},
      {"--calls", [](Options& o, const std::string& v) { return number(v, o.calls) && o.calls > 0 && o.calls <= 65535; }},
      {"--ramp-cps", [](Options& o, const std::string& v) { return number(v, o.ramp_cps) && o.ramp_cps > 0; }},
      {"--hold-s", [](Options& o, const std::string& v) { return number(v, o.hold_s) && o.hold_s > 0; }},
      {"--agent-listen", [](Options& o, const std::string& v) { o.agent_listen = v; return !v.empty(); }},
      {"--warmline-pid", [](Options& o, const std::string& v) { return number(v, o.warmline_pid) && o.warmline_pid > 0; }},
      {"--report", [](Options& o, const std::string& v) { o.report_dir = v; return !v.empty(); }},
      {"--label", [](Options& o, const std::string& v) { o.label = v; return true; }},
      {"--max-runtime-s", [](Options& o, const std::string& v) { return number(v, o.max_runtime_s) && o.max_runtime_s > 0; }},
      {"--rtp-relay", [](Options& o, const std::string& v) { o.rtp_relay = v; return !v.empty(); }},
      {"--bridge", [](Options& o, const std::string& v) { o.bridge_target = v; return !v.empty(); }},
      {"--target-listen", [](Options& o, const std::string& v) { o.target_listen = v; return !v.empty(); }},
      {"--transfer-mode", [](Options& o, const std::string& v) { o.transfer_mode = v; return v == "cold" || v == "warm"; }},
      {"--after-bridge", [](Options& o, const std::string& v) { o.after_bridge = v; return v == "leave" || v == "listen"; }},
      {"--tls-ca", [](Options& o, const std::string& v) { o.tls_ca = v; return !v.empty(); }},
      {"--relay-pid", [](Options& o, const std::string& v) { return number(v, o.relay_pid) && o.relay_pid > 0; }},
  };
  return kSetters;
}

}  // namespace

ParseOutcome parse_options(const std::vector<std::string>& args) {
  ParseOutcome out;
  Options o;
  bool calls_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }
    if (a == "--quiet" || a == "--srtp" || a == "--tls") {
      (a == "--quiet" ? o.quiet : a == "--srtp" ? o.srtp : o.tls) = true;
      continue;
    }
    auto it = setters().find(a);
    if (it == setters().end()) {
      out.error = "unknown option '" + a + "'";
      return out;
    }
    if (i + 1 == args.size()) {
      out.error = a + " needs a value";
      return out;
    }
    if (!it->second(o, args[++i])) {
      out.error = "bad value for " + a + ": '" + args[i] + "'";
      return out;
    }
    calls_given = calls_given || a == "--calls";
  }
  if (!o.rtp_relay.empty() && !o.bridge_target.empty()) {
    out.error = "--bridge and --rtp-relay are different runs: give one";
    return out;
  }
  if (!o.rtp_relay.empty() && o.srtp) {
    out.error = "--srtp is for the callers of a gateway run, not --rtp-relay";
    return out;
  }
  if (!o.rtp_relay.empty() && o.tls) {
    out.error = "--tls is for the callers of a gateway run, not --rtp-relay";
    return out;
  }
  if (!o.tls && !o.tls_ca.empty()) {
    out.error = "--tls-ca verifies the gateway's certificate over --tls: give --tls too";
    return out;
  }
  if (o.bridge_target.empty() && (o.transfer_mode != "cold" || o.after_bridge != "leave")) {
    out.error = "--transfer-mode and --after-bridge shape the transfer of --bridge: give --bridge too";
    return out;
  }
  if (!o.rtp_relay.empty() && !calls_given) o.calls = 0;  // relay mode: every pair in the file
  out.options = std::move(o);
  return out;
}

std::string usage() {
  return "usage: warmline-load [--gateway IP:PORT] [--number USER] [--calls N] [--ramp-cps R] [--hold-s S]\n"
         "                     [--agent-listen IP:PORT] [--warmline-pid PID] [--report DIR] [--label TEXT]\n"
         "                     [--max-runtime-s T] [--quiet] [--srtp] [--tls [--tls-ca FILE]]\n"
         "                     [--bridge TARGET [--target-listen IP:PORT]\n"
         "                     [--transfer-mode cold|warm] [--after-bridge leave|listen]]\n"
         "       warmline-load --rtp-relay FILE [--relay-pid PID] [--calls N] [--hold-s S] [--report DIR]\n"
         "                     [--label TEXT] [--max-runtime-s T] [--quiet]\n"
         "See bench/README.md, section \"Load generator\".\n";
}

}  // namespace warmline::load
