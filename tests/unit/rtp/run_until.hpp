// Test helpers for RtpSession tests: runs an io_context until a condition holds, bounded by a deadline;
// opens and starts a session.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "rtp/session.hpp"

namespace warmline::rtp::test {

// Runs the loop until `done` or a 5 s deadline; every wait is on a real event, never a sleep.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(50ms);
  }
  return done();
}

// Opens a session (expecting it to open), starts it and keeps it in `sessions` (closed at tear-down).
inline std::shared_ptr<RtpSession> open_started(boost::asio::io_context& io, RtpSessionOptions options,
                                                std::vector<std::shared_ptr<RtpSession>>& sessions) {
  std::error_code ec;
  auto s = RtpSession::open(io, std::move(options), ec);
  EXPECT_TRUE(s) << ec.message();
  if (s) {
    s->start();
    sessions.push_back(s);
  }
  return s;
}

}  // namespace warmline::rtp::test
