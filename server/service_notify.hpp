// Telling the service manager how the process is doing (sd_notify(3), for `Type=notify` units such as
// deploy/systemd/warmline.service): READY=1 once every socket is bound, STATUS= with the live calls,
// STOPPING=1 when an exiting drain starts, and — when the unit sets WatchdogSec= — WATCHDOG=1 pings.
//
// A ping is sent only while every shard answers: each round posts a probe to every shard's io_context,
// and the next round pings only if all of them ran. A shard stuck in a loop or a blocking call stops the
// pings, and systemd restarts the unit (Restart=on-watchdog) instead of leaving a node that takes calls
// it cannot carry. Without NOTIFY_SOCKET in the environment (not run by systemd) everything here is a
// no-op.
//
// Threading: every call is on the control thread; the probes run on the shards and touch one atomic.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace warmline::server {

class ShardSet;

class ServiceNotifier {
 public:
  // `live_calls` is read on the control thread for the STATUS line.
  ServiceNotifier(boost::asio::io_context& control, ShardSet& shards, std::function<int64_t()> live_calls);

  // Whether a service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The watchdog period systemd asked for (WATCHDOG_USEC), zero when there is none.
  std::chrono::microseconds watchdog_period() const { return watchdog_; }

  // READY=1 and the status line; starts the periodic status and watchdog rounds.
  void ready(std::string_view status);
  // STATUS= only (drain from the API, resume).
  void status(std::string_view status);
  // STOPPING=1: the process is on its way out (an exiting drain).
  void stopping(std::string_view status);
  // Stops the rounds (the process is finishing).
  void stop();

 private:
  void send(const std::string& state);
  void schedule();
  void round();

  boost::asio::io_context& control_;
  ShardSet& shards_;
  std::function<int64_t()> live_calls_;
  boost::asio::steady_timer timer_;
  bool enabled_ = false;
  bool running_ = false;
  std::chrono::microseconds watchdog_{0};
  std::string label_;  // the state part of the status line: "taking calls", "draining", ...
  std::string last_status_;
  // Probes of the current round that have run; shared with the probes, which may outlive a stop().
  std::shared_ptr<std::atomic<unsigned>> answered_;
  unsigned expected_ = 0;
};

}  // namespace warmline::server
