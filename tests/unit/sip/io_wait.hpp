// A bounded wait for tests that use real sockets: runs the io_context one event at a time until
// `done()` holds or 5 s pass. Each step returns on a real event, so a passing test never waits long.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace warmline::sip::test {

template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done) {
  using namespace std::chrono_literals;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(50ms);
  }
  return done();
}

}  // namespace warmline::sip::test
