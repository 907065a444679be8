// The relay run (--rtp-relay): no SIP, no agent. Every pair sends from leg A at real-time pace; what
// the relay forwards arrives on leg B and is matched with its send time. One second to settle (the
// relay learns its endpoints), a steady window of --hold-s seconds, 300 ms for frames in flight.
// Thread: the calling thread only.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/load/media_calls.hpp"
#include "bench/load/relay_pairs.hpp"
#include "bench/load/run_common.hpp"
#include "bench/load/runs.hpp"

namespace warmline::load {

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kSettleNs = kSecond;
constexpr int64_t kDrainNs = 300'000'000;

class RelayRun {
 public:
  RelayRun(const Options& o, std::vector<RelayPair> pairs)
      : o_(o), pairs_(std::move(pairs)), shared_(pairs_.size()), media_(MediaCalls::Mode::kRelay, shared_, io_),
        peer_(o.relay_pid ? o.relay_pid : CpuWindow::kNone), self_(0) {}

  bool open(std::string& error);
  RunResult run();

 private:
  void progress(int64_t now) const;
  RunResult result(double window_s, bool aborted, double max_lag_ms) const;

  const Options& o_;
  std::vector<RelayPair> pairs_;
  SharedState shared_;
  UringIo io_;
  MediaCalls media_;
  CpuWindow peer_, self_;
  std::optional<int64_t> rss_before_;
  std::string host_load_;
  int64_t start_ = 0;
};

bool RelayRun::open(std::string& error) {
  if (!raise_fd_limit(pairs_.size() * 2 + 64, error) || !io_.init(4096, 8192, 256, error)) return false;
  for (uint32_t i = 0; i < pairs_.size(); ++i) {
    const RelayPair& p = pairs_[i];
    if (!media_.open_relay_call(i, p.send_to, p.send_port, p.recv_port, error)) return false;
  }
  host_load_ = load_average();
  return peer_baseline(o_.relay_pid, "--relay-pid", rss_before_, error);
}

RunResult RelayRun::run() {
  start_ = now_ns();
  for (uint32_t i = 0; i < pairs_.size(); ++i) media_.start_relay(i);
  SlotClock slots(start_);
  const int64_t window_start = start_ + kSettleNs;
  int64_t window_end = window_start + static_cast<int64_t>(o_.hold_s * 1e9);
  const int64_t hard_end = start_ + static_cast<int64_t>(o_.max_runtime_s * 1e9);
  shared_.window_start.store(window_start, std::memory_order_relaxed);
  shared_.window_end.store(window_end, std::memory_order_relaxed);
  const std::function<void(const UringIo::Completion&)> on_completion = [this](const UringIo::Completion& c) {
    if (c.kind == UringIo::Kind::kRecv && c.result > 0) media_.on_datagram(c.tag, c.data, c.at_ns);
    else if (c.kind == UringIo::Kind::kSend) shared_.rtp_send_errors.add();
  };
  bool in_window = false, closed = false, aborted = false;
  double max_lag_ms = 0;
  int64_t next_progress = start_ + kSecond;
  for (int64_t now = start_; now < window_end + kDrainNs; now = now_ns()) {
    if (now >= hard_end && !aborted) {  // cut short: report the window so far
      aborted = true;
      window_end = std::max(window_start, std::min(window_end, now));
      shared_.window_end.store(window_end, std::memory_order_relaxed);
    }
    slots.run_due(now, media_);
    if (!in_window && now >= window_start) {
      in_window = true;
      peer_.begin();
      self_.begin();
    }
    if (in_window && now < window_end) max_lag_ms = std::max(max_lag_ms, slots.max_lag_ms());
    slots.reset_lag();
    if (now >= next_progress) {
      progress(now);
      next_progress += kSecond;
    }
    io_.wait(std::min(slots.next_due(), next_progress) - now_ns(), on_completion);
    if (in_window && !closed && now_ns() >= window_end) {
      closed = true;
      peer_.end();
      self_.end();
    }
  }
  return result(static_cast<double>(window_end - window_start) / 1e9, aborted, max_lag_ms);
}

void RelayRun::progress(int64_t now) const {
  if (o_.quiet) return;
  std::fprintf(stderr, "[%6.1fs] relay %zu pairs | tx %lu rx %lu (stamped %lu) | p50 %.0fus p99 %.0fus max %.0fus\n",
               static_cast<double>(now - start_) / 1e9, pairs_.size(), shared_.rtp_sent.get(),
               shared_.rtp_received.get(), shared_.rtp_stamped.get(), shared_.relay_all.percentile_ns(50) / 1e3,
               shared_.relay_all.percentile_ns(99) / 1e3, static_cast<double>(shared_.relay_all.max_ns()) / 1e3);
}

RunResult RelayRun::result(double window_s, bool aborted, double max_lag_ms) const {
  RunResult r;
  r.label = o_.label;
  r.mode = "relay";
  r.date = utc_now();
  r.host_load = host_load_;
  r.aborted = aborted;
  r.calls = r.calls_up = static_cast<uint32_t>(pairs_.size());
  r.window_s = window_s;
  r.in = percentiles_of(shared_.relay);
  r.in_sent = shared_.rtp_sent_window.get();
  r.in_received = shared_.rtp_stamped_window.get();
  r.in_loss_pct = loss_pct(r.in_sent, r.in_received);
  fill_peer(r, peer_, rss_before_, window_s);
  if (self_.valid() && window_s > 0) r.gen_cpu_cores = self_.cpu_s() / window_s;
  r.max_send_lag_ms = max_lag_ms;
  return r;
}

}  // namespace

std::optional<RunResult> run_relay(const Options& options, std::string& error) {
  std::ifstream in(options.rtp_relay);
  if (!in) {
    error = "--rtp-relay: cannot read " + options.rtp_relay;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_relay_pairs(text.str());
  if (parsed.pairs.empty()) {
    error = options.rtp_relay + ":" + parsed.error;
    return std::nullopt;
  }
  if (options.calls > parsed.pairs.size()) {
    error = "--calls " + std::to_string(options.calls) + " but " + options.rtp_relay + " lists " +
            std::to_string(parsed.pairs.size()) + " pairs";
    return std::nullopt;
  }
  if (options.calls) parsed.pairs.resize(options.calls);
  auto run = std::make_unique<RelayRun>(options, std::move(parsed.pairs));
  if (!run->open(error)) return std::nullopt;
  return run->run();
}

}  // namespace warmline::load
