// Timers for the SIP stack (RFC 3261 §17, Table 4 of Appendix A).
//
// Transactions and the UAS core never touch a clock directly: they schedule callbacks on a
// TimerService, so tests drive every retransmission schedule with FakeTimerService
// (sip/testing/fake_timer.hpp) and no sleeps. Threading: a TimerService belongs to one shard; schedule,
// cancel and the callbacks all run on that shard's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace boost::asio {
class io_context;
}

namespace warmline::sip {

using TimerId = uint64_t;
inline constexpr TimerId kNoTimer = 0;

// RFC 3261 Appendix A defaults. T1 is the RTT estimate, T2 the cap on non-INVITE request and INVITE
// response retransmission intervals, T4 how long a message may stay in the network.
struct TimerConfig {
  std::chrono::milliseconds t1{500};
  std::chrono::milliseconds t2{4000};
  std::chrono::milliseconds t4{5000};
  // §17.2.1: an INVITE server transaction sends 100 Trying itself when the TU has not answered
  // within 200 ms.
  std::chrono::milliseconds trying_delay{200};

  std::chrono::milliseconds timeout() const { return 64 * t1; }  // timers B, F, H, J, L, M
};

class TimerService {
 public:
  virtual ~TimerService() = default;
  // Runs `fn` once after `delay` unless cancelled first. Never returns kNoTimer.
  virtual TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Cancelling an unknown, fired or already cancelled id is a no-op.
  virtual void cancel(TimerId id) = 0;
  virtual std::chrono::steady_clock::time_point now() const = 0;
};

// One steady_timer per scheduled timer: a shard holds at most a few thousand SIP timers, so a timer
// wheel would buy nothing here.
class AsioTimerService final : public TimerService {
 public:
  explicit AsioTimerService(boost::asio::io_context& io);
  ~AsioTimerService() override;
  AsioTimerService(const AsioTimerService&) = delete;
  AsioTimerService& operator=(const AsioTimerService&) = delete;

  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  std::chrono::steady_clock::time_point now() const override;
  size_t pending() const;
  // Cancels every timer without running it (shutdown: nothing may keep the io_context busy).
  void cancel_all();

 private:
  struct Entry;
  void fire(TimerId id);

  boost::asio::io_context& io_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<Entry>> timers_;
  // A completion that was already queued when the service died must not touch it: the handlers hold
  // a weak_ptr to this token.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::sip
