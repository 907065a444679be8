// Test helper for RtpSession tests: runs an io_context until a condition holds, bounded by a deadline.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

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

}  // namespace warmline::rtp::test
