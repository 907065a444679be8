// The gateway run: ramp up N calls at R calls/s, let them settle for a second, measure a steady
// window of --hold-s seconds with every call up, let frames in flight land (300 ms), then hang up at
// R calls/s. Bridged mode (--bridge) puts a transfer phase before the window: the agent transfers
// the calls at R/s to the generator's own target, and the window measures the bridged calls.
// Thread: everything here runs on the calling thread; the agent has its own.
#include <cstdio>

#include "bench/load/agent_server.hpp"
#include "bench/load/media_calls.hpp"
#include "bench/load/run_common.hpp"
#include "bench/load/runs.hpp"
#include "bench/load/sip_callee.hpp"
#include "bench/load/sip_caller.hpp"

namespace warmline::load {

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kSettleNs = kSecond;
constexpr int64_t kDrainNs = 300'000'000;
constexpr int64_t kSipTimerNs = 10'000'000;
constexpr int64_t kAbortGraceNs = 2 * kSecond;
constexpr int64_t kTransferBoundNs = 30 * kSecond;  // transfers still unanswered then are left out
constexpr uint32_t kCallerSipTag = 0, kTargetSipTag = 1;

class GatewayRun {
 public:
  GatewayRun(const Options& o, const sockaddr_in& gateway)
      : o_(o),
        shared_(o.calls),
        bridged_(!o.bridge_target.empty()),
        media_(bridged_ ? MediaCalls::Mode::kBridged : MediaCalls::Mode::kGateway, shared_, io_),
        sip_({.gateway = gateway, .number = o.number, .srtp = o.srtp, .tls = o.tls, .tls_ca = o.tls_ca},
             {.on_answered = [this](uint32_t c, const sockaddr_in& rtp, std::unique_ptr<rtp::SrtpSession> srtp) {
                media_.start(c, rtp, std::move(srtp));
              },
              .on_ended = [this](uint32_t c) { media_.stop(c); }},
             o.calls),
        callee_(shared_,
                {.on_bridged = [this](uint32_t c, const sockaddr_in& rtp) { media_.start_target(c, rtp); },
                 .on_ended = [this](uint32_t c) { media_.stop_target(c); }},
                o.calls),
        agent_(shared_, o.bridge_target,
               ",\"mode\":\"" + o.transfer_mode + "\",\"after_bridge\":\"" + o.after_bridge + "\""),
        peer_(o.warmline_pid ? o.warmline_pid : CpuWindow::kNone),
        peer_ai_(o.warmline_pid ? o.warmline_pid : CpuWindow::kNone),
        peer_transfer_(o.warmline_pid ? o.warmline_pid : CpuWindow::kNone),
        peer_ramp_(o.warmline_pid ? o.warmline_pid : CpuWindow::kNone),
        self_(0) {}

  bool open(std::string& error);
  RunResult run();

 private:
  enum class Phase { kRamp, kSettle, kTransfer, kBridgeSettle, kWindow, kDrain, kHangup, kDone };

  void step(int64_t now);
  void begin_window(int64_t now);
  void begin_transfers(int64_t now);
  bool transfers_settled() const;
  void abort(int64_t now);
  int64_t next_deadline(int64_t now) const;
  void progress(int64_t now);
  RunResult result() const;
  void fill_bridged(RunResult& r) const;
  void fill_setup_cpu(RunResult& r) const;

  const Options& o_;
  SharedState shared_;
  UringIo io_;
  const bool bridged_;
  MediaCalls media_;
  SipCaller sip_;
  SipCallee callee_;
  AgentServer agent_;
  std::vector<uint16_t> rtp_ports_;
  // peer_: the window; peer_ai_: the settle second before the transfers (AI calls); peer_transfer_:
  // the transfer phase (bridged mode).
  // peer_ramp_: the ramp (call set-up).
  CpuWindow peer_, peer_ai_, peer_transfer_, peer_ramp_, self_;
  std::optional<int64_t> rss_before_;
  std::string host_load_;

  Phase phase_ = Phase::kRamp;
  int64_t start_ = 0, phase_end_ = 0, hangup_start_ = 0, window_ns_ = 0, abort_end_ = 0;
  int64_t settle_start_ = 0, transfer_start_ = 0, transfer_ns_ = 0, ramp_ns_ = 0;
  uint32_t invited_ = 0, hung_up_ = 0, calls_up_ = 0, transferred_ = 0, bridged_up_ = 0;
  std::vector<uint32_t> to_transfer_;  // the calls up when the transfer phase began
  bool aborted_ = false;
  double max_lag_ms_ = 0;
};

bool GatewayRun::open(std::string& error) {
  if (!raise_fd_limit(uint64_t{o_.calls} * 2 + 256, error)) return false;
  if (!io_.init(4096, 8192, 256, error) || !sip_.open(error)) return false;
  if (o_.srtp && !rtp::SrtpSession::initialize()) {  // its self-tests now, not on the first answer's send slot
    error = "libsrtp failed to initialise";
    return false;
  }
  rtp_ports_.resize(o_.calls);
  for (uint32_t i = 0; i < o_.calls; ++i)
    if ((rtp_ports_[i] = media_.open_call(i, error)) == 0) return false;
  io_.arm_poll(sip_.fd(), kCallerSipTag);
  if (bridged_) {
    if (!callee_.open(o_.target_listen, error)) return false;
    for (uint32_t i = 0; i < o_.calls; ++i) {
      const uint16_t port = media_.open_target(i, error);
      if (port == 0) return false;
      callee_.set_rtp_port(i, port);
    }
    io_.arm_poll(callee_.fd(), kTargetSipTag);
  }
  host_load_ = load_average();
  return peer_baseline(o_.warmline_pid, "--warmline-pid", rss_before_, error) && agent_.start(o_.agent_listen, error);
}

RunResult GatewayRun::run() {
  start_ = now_ns();
  peer_ramp_.begin();
  SlotClock slots(start_);
  int64_t next_timer = start_, next_progress = start_ + kSecond;
  const std::function<void(const UringIo::Completion&)> on_completion = [this](const UringIo::Completion& c) {
    if (c.kind == UringIo::Kind::kRecv && c.result > 0) media_.on_datagram(c.tag, c.data, c.at_ns);
    else if (c.kind == UringIo::Kind::kPoll && c.tag == kCallerSipTag) sip_.on_readable(c.at_ns);
    else if (c.kind == UringIo::Kind::kPoll) callee_.on_readable(c.at_ns);
    else if (c.kind == UringIo::Kind::kSend) shared_.rtp_send_errors.add();
  };
  while (phase_ != Phase::kDone) {
    int64_t now = now_ns();
    slots.run_due(now, media_);
    step(now);
    if (now >= next_timer) {
      sip_.on_timer(now);
      if (bridged_) callee_.on_timer(now);
      next_timer += kSipTimerNs;
    }
    if (now >= next_progress) {
      progress(now);
      next_progress += kSecond;
    }
    if (phase_ == Phase::kWindow) max_lag_ms_ = std::max(max_lag_ms_, slots.max_lag_ms());
    slots.reset_lag();
    const int64_t deadline = std::min({slots.next_due(), next_timer, next_deadline(now)});
    io_.wait(deadline - now_ns(), on_completion);
    media_.flush_echoes();
  }
  agent_.stop();
  return result();
}

void GatewayRun::step(int64_t now) {
  if (!aborted_ && now - start_ > static_cast<int64_t>(o_.max_runtime_s * 1e9)) abort(now);
  const auto per_call = static_cast<int64_t>(1e9 / o_.ramp_cps);
  switch (phase_) {
    case Phase::kRamp:
      while (invited_ < o_.calls && now >= start_ + invited_ * per_call) {
        sip_.invite(invited_, rtp_ports_[invited_], now);
        ++invited_;
      }
      if (invited_ == o_.calls && sip_.settled() == o_.calls) {
        phase_ = Phase::kSettle;
        settle_start_ = now;
        phase_end_ = now + kSettleNs;
        peer_ramp_.end();
        ramp_ns_ = now - start_;
        peer_ai_.begin();
      }
      break;
    case Phase::kSettle:
      if (now < phase_end_) break;
      peer_ai_.end();
      if (bridged_) begin_transfers(now);
      else begin_window(now);
      break;
    case Phase::kTransfer:
      while (transferred_ < to_transfer_.size() && now >= transfer_start_ + transferred_ * per_call)
        agent_.request_transfer(to_transfer_[transferred_++]);
      if (transfers_settled() || now - transfer_start_ >= kTransferBoundNs) {
        peer_transfer_.end();
        transfer_ns_ = now - transfer_start_;
        phase_ = Phase::kBridgeSettle;
        phase_end_ = now + kSettleNs;
      }
      break;
    case Phase::kBridgeSettle:
      if (now >= phase_end_) begin_window(now);
      break;
    case Phase::kWindow:
      if (now < phase_end_) break;
      peer_.end();
      self_.end();
      phase_ = Phase::kDrain;
      phase_end_ = now + kDrainNs;
      break;
    case Phase::kDrain:
      if (now < phase_end_) break;
      phase_ = Phase::kHangup;
      hangup_start_ = now;
      break;
    case Phase::kHangup:
      while (hung_up_ < o_.calls && (aborted_ || now >= hangup_start_ + hung_up_ * per_call)) {
        media_.stop(hung_up_);
        sip_.hang_up(hung_up_, now);
        ++hung_up_;
      }
      if (hung_up_ == o_.calls && (sip_.active() == 0 || (aborted_ && now >= abort_end_))) phase_ = Phase::kDone;
      break;
    case Phase::kDone:
      break;
  }
}

void GatewayRun::begin_transfers(int64_t now) {
  for (uint32_t i = 0; i < o_.calls; ++i)
    if (sip_.state(i) == SipCaller::State::kUp) to_transfer_.push_back(i);
  transfer_start_ = now;
  peer_transfer_.begin();
  phase_ = Phase::kTransfer;
}

// Every transfer asked for has its target leg up (ACKed), or has ended otherwise.
bool GatewayRun::transfers_settled() const {
  if (transferred_ < to_transfer_.size()) return false;
  const uint64_t failed = shared_.agent_transfers_failed.get() + shared_.agent_transfer_no_session.get();
  return callee_.bridged() + failed >= to_transfer_.size();
}

void GatewayRun::begin_window(int64_t now) {
  window_ns_ = static_cast<int64_t>(o_.hold_s * 1e9);
  shared_.window_start.store(now, std::memory_order_relaxed);
  shared_.window_end.store(now + window_ns_, std::memory_order_relaxed);
  calls_up_ = static_cast<uint32_t>(sip_.up());
  bridged_up_ = static_cast<uint32_t>(callee_.bridged());
  peer_.begin();
  self_.begin();
  phase_ = Phase::kWindow;
  phase_end_ = now + window_ns_;
}

// --max-runtime-s: every call still up is hung up at once; BYE responses get kAbortGraceNs.
void GatewayRun::abort(int64_t now) {
  aborted_ = true;
  abort_end_ = now + kAbortGraceNs;
  if (phase_ == Phase::kWindow) {  // a cut-short window still reports what it measured
    window_ns_ = now - shared_.window_start.load(std::memory_order_relaxed);
    shared_.window_end.store(now, std::memory_order_relaxed);
    peer_.end();
    self_.end();
  }
  if (phase_ == Phase::kTransfer) {
    peer_transfer_.end();
    transfer_ns_ = now - transfer_start_;
  }
  invited_ = o_.calls;
  sip_.abandon_pending();
  phase_ = Phase::kHangup;
  hangup_start_ = now;
}

int64_t GatewayRun::next_deadline(int64_t now) const {
  const auto per_call = static_cast<int64_t>(1e9 / o_.ramp_cps);
  switch (phase_) {
    case Phase::kRamp: return invited_ < o_.calls ? start_ + invited_ * per_call : now + kSipTimerNs;
    case Phase::kTransfer:
      return transferred_ < to_transfer_.size() ? transfer_start_ + transferred_ * per_call : now + kSipTimerNs;
    case Phase::kHangup: return hung_up_ < o_.calls ? hangup_start_ + hung_up_ * per_call : now + kSipTimerNs;
    default: return phase_end_;
  }
}

void GatewayRun::progress(int64_t now) {
  if (o_.quiet) return;
  static constexpr const char* kNames[] = {"ramp", "settle", "xfer", "settle", "window", "drain", "hangup", "done"};
  const auto& sc = sip_.counters();
  std::fprintf(stderr,
               "[%6.1fs] %-6s up %zu/%u fail %lu retx %lu | rtp tx %lu rx %lu (stamped %lu) | agent conns %lu frames %lu"
               " | c->ai p50 %.0fus p99 %.0fus | ai->c p50 %.2fms p99 %.2fms\n",
               static_cast<double>(now - start_) / 1e9, kNames[static_cast<int>(phase_)], sip_.up(), o_.calls,
               sc.failed + sc.timeouts, sc.invite_retransmits + sc.bye_retransmits, shared_.rtp_sent.get(),
               shared_.rtp_received.get(), shared_.rtp_stamped.get(), shared_.agent_connections.get(),
               shared_.agent_frames.get(), shared_.caller_to_ai_all.percentile_ns(50) / 1e3,
               shared_.caller_to_ai_all.percentile_ns(99) / 1e3, shared_.ai_to_caller_all.percentile_ns(50) / 1e6,
               shared_.ai_to_caller_all.percentile_ns(99) / 1e6);
  if (!bridged_) return;
  std::fprintf(stderr,
               "          bridged: transfers %lu completed %lu failed %lu | target legs up %zu | c->target p50 %.0fus "
               "p99 %.0fus rx %lu\n",
               shared_.agent_transfers.get(), shared_.agent_transfers_completed.get(),
               shared_.agent_transfers_failed.get() + shared_.agent_transfer_no_session.get(), callee_.bridged(),
               shared_.relay_all.percentile_ns(50) / 1e3, shared_.relay_all.percentile_ns(99) / 1e3,
               shared_.target_received.get());
}

// The set-up cost (report.hpp): the ramp's CPU less the media of the calls already up, which grows
// from none to the settle second's rate at an even pace (half of it on average).
void GatewayRun::fill_setup_cpu(RunResult& r) const {
  r.ramp_s = static_cast<double>(ramp_ns_) / 1e9;
  if (!peer_ramp_.valid() || !peer_ai_.valid() || ramp_ns_ == 0) return;
  r.ramp_cpu_s = peer_ramp_.cpu_s();
  r.ai_call_cpu_cores = peer_ai_.cpu_s() / (static_cast<double>(kSettleNs) / 1e9);
  const uint64_t answered = sip_.counters().answered;
  if (answered == 0) return;
  r.setup_cpu_ms_per_call = (r.ramp_cpu_s - r.ramp_s * r.ai_call_cpu_cores / 2) * 1e3 / static_cast<double>(answered);
}

// The transfer phase's figures. Gateway CPU per transfer = the phase's CPU less what the media of the
// calls cost meanwhile, estimated as the mean of the AI calls' rate (the settle second before) and the
// bridged calls' rate (the window), since the calls move from one to the other at an even pace.
void GatewayRun::fill_bridged(RunResult& r) const {
  r.bridged = bridged_up_;
  r.transfers = shared_.agent_transfers.get();
  r.transfers_failed = shared_.agent_transfers_failed.get() + shared_.agent_transfer_no_session.get();
  r.transfer_to_invite = percentiles_of(shared_.transfer_to_invite);
  r.transfer_to_ack = percentiles_of(shared_.transfer_to_ack);
  r.transfer_phase_s = static_cast<double>(transfer_ns_) / 1e9;
  if (!peer_transfer_.valid() || !peer_ai_.valid() || r.peer_cpu_cores < 0 || r.transfers == 0) return;
  r.transfer_cpu_s = peer_transfer_.cpu_s();
  r.ai_cpu_cores = peer_ai_.cpu_s() / (static_cast<double>(kSettleNs) / 1e9);
  const double media_s = r.transfer_phase_s * (r.ai_cpu_cores + r.peer_cpu_cores) / 2;
  r.setup_cpu_ms_per_transfer = (r.transfer_cpu_s - media_s) * 1e3 / static_cast<double>(r.transfers);
}

RunResult GatewayRun::result() const {
  RunResult r;
  const auto& sc = sip_.counters();
  r.label = o_.label;
  r.mode = bridged_ ? "bridged" : "gateway";
  r.date = utc_now();
  r.host_load = host_load_;
  r.aborted = aborted_;
  r.stamped = shared_.agent_frames_stamped.get() > 0 || shared_.agent_frames.get() == 0;
  r.calls = o_.calls;
  r.calls_up = calls_up_;
  r.failed = sc.failed;
  r.timeouts = sc.timeouts;
  r.last_failure_status = sc.last_failure_status;
  r.dropped = sc.dropped_by_gateway;
  r.invite_retransmits = sc.invite_retransmits;
  r.bye_retransmits = sc.bye_retransmits;
  r.bye_failed = sc.bye_failed;
  r.setup = percentiles_of(sip_.setup_times());
  r.srtp = o_.srtp;
  r.srtp_calls = sc.srtp_calls;
  r.srtp_refused = sc.srtp_refused;
  r.srtp_error = sip_.srtp_error();
  r.srtp_protect_failed = shared_.srtp_protect_failed.get();
  r.srtp_unprotect_failed = shared_.srtp_unprotect_failed.get();
  if (o_.tls) {
    r.sip_transport = "tls";
    r.tls_cipher = sip_.tls_cipher();
    r.transport_failures = sc.transport_failures;
    r.transport_error = sip_.transport_error();
  }
  fill_setup_cpu(r);
  r.window_s = static_cast<double>(window_ns_) / 1e9;
  r.in = percentiles_of(shared_.caller_to_ai);
  r.out = percentiles_of(shared_.ai_to_caller);
  r.out_beyond_tick = percentiles_of(shared_.ai_to_caller_beyond_tick);
  r.out_queued = percentiles_of(shared_.ai_to_caller_queued);
  if (bridged_) {  // caller -> target and the target's echo -> caller, both through the gateway's relay
    r.stamped = true;
    r.in = percentiles_of(shared_.relay);
    r.in_sent = shared_.rtp_sent_window.get();
    r.in_received = shared_.target_received_window.get();
    r.out_sent = shared_.target_echoes_window.get();
    r.out_received = shared_.rtp_stamped_window.get();
  } else if (r.stamped) {
    r.in_sent = shared_.rtp_sent_window.get();
    r.in_received = shared_.agent_frames_window.get();
    r.out_sent = shared_.echoes_window.get();
    r.out_received = shared_.rtp_stamped_window.get();
  } else {  // no stamps (16/24 kHz agent): whole-run frame counts, caller -> AI only
    r.in_sent = shared_.rtp_sent.get();
    r.in_received = shared_.agent_frames.get();
  }
  r.in_out_of_order = shared_.agent_out_of_order.get();
  r.in_coalesced = shared_.agent_coalesced.get();
  r.in_loss_pct = loss_pct(r.in_sent, r.in_received);
  r.out_loss_pct = loss_pct(r.out_sent, r.out_received);
  fill_peer(r, peer_, rss_before_, r.window_s);
  if (self_.valid() && r.window_s > 0) r.gen_cpu_cores = self_.cpu_s() / r.window_s;
  r.max_send_lag_ms = max_lag_ms_;
  if (bridged_) fill_bridged(r);
  return r;
}

}  // namespace

std::optional<RunResult> run_gateway(const Options& options, std::string& error) {
  auto gateway = parse_endpoint(options.gateway);
  if (!gateway) {
    error = "--gateway: expected IPv4:PORT, got '" + options.gateway + "'";
    return std::nullopt;
  }
  auto run = std::make_unique<GatewayRun>(options, *gateway);
  if (!run->open(error)) return std::nullopt;
  return run->run();
}

}  // namespace warmline::load
