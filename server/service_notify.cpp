#include "server/service_notify.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "server/shard.hpp"

namespace warmline::server {

namespace {

// Status lines are refreshed at least this often; the watchdog may ask for more.
constexpr std::chrono::microseconds kStatusPeriod = std::chrono::seconds(5);

}  // namespace

ServiceNotifier::ServiceNotifier(boost::asio::io_context& control, ShardSet& shards,
                                 std::function<int64_t()> live_calls)
    : control_(control), shards_(shards), live_calls_(std::move(live_calls)), timer_(control),
      answered_(std::make_shared<std::atomic<unsigned>>(0)) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::send(const std::string& state) {
  if (!enabled_) return;
  int r = sd_notify(0, state.c_str());
  if (r < 0) spdlog::warn("sd_notify: {}", std::strerror(-r));
}

void ServiceNotifier::ready(std::string_view status) {
  label_ = status;
  last_status_ = fmt::format("{}: {} live call(s)", label_, live_calls_());
  send("READY=1\nSTATUS=" + last_status_);
  if (!enabled_ || running_) return;
  running_ = true;
  if (watchdog_.count() > 0)
    spdlog::info("systemd watchdog: pinging every {} ms while every shard answers", watchdog_.count() / 2000);
  // The first round pings at once: every shard has just started.
  expected_ = shards_.size();
  answered_->store(expected_);
  round();
}

void ServiceNotifier::status(std::string_view status) {
  label_ = status;
  last_status_ = fmt::format("{}: {} live call(s)", label_, live_calls_());
  send("STATUS=" + last_status_);
}

void ServiceNotifier::stopping(std::string_view status) {
  label_ = status;
  last_status_ = fmt::format("{}: {} live call(s)", label_, live_calls_());
  send("STOPPING=1\nSTATUS=" + last_status_);
}

void ServiceNotifier::stop() {
  running_ = false;
  timer_.cancel();
}

void ServiceNotifier::round() {
  if (!running_) return;
  std::string state;
  if (watchdog_.count() > 0) {
    const unsigned got = answered_->load();
    if (got >= expected_) {
      state = "WATCHDOG=1";
    } else {
      spdlog::warn("systemd watchdog: {} of {} shard(s) did not answer within {} ms; not pinging", expected_ - got,
                   expected_, std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_ / 2).count());
    }
    // A fresh counter per round: a probe of an earlier round that runs late cannot count for this one.
    answered_ = std::make_shared<std::atomic<unsigned>>(0);
    expected_ = shards_.size();
    for (unsigned i = 0; i < expected_; ++i)
      shards_.at(i).post([a = answered_] { a->fetch_add(1, std::memory_order_relaxed); });
  }
  std::string line = fmt::format("{}: {} live call(s)", label_, live_calls_());
  if (line != last_status_) {
    last_status_ = line;
    if (!state.empty()) state += '\n';
    state += "STATUS=" + line;
  }
  if (!state.empty()) send(state);
  schedule();
}

void ServiceNotifier::schedule() {
  auto period = kStatusPeriod;
  if (watchdog_.count() > 0) period = std::min(period, watchdog_ / 2);
  timer_.expires_after(period);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) round();
  });
}

}  // namespace warmline::server
