#pragma once
// The bounded outgoing message queue of an AgentConnection (kept apart from Beast so it can be tested
// and benchmarked alone). A ring of message slots whose buffers are kept after use: once warmed up,
// queueing a 20 ms audio frame is a memcpy into an existing buffer, with no allocation.
//
// Binary messages queued behind the message being written are coalesced (appended to the last queued
// binary message, up to max_coalesced_bytes): audio is any length in the native protocol, and one
// larger write costs less than many small ones when the agent's socket is slow. Text messages are
// never merged. Thread: the connection's io_context only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace warmline::ai {

class WriteQueue {
 public:
  struct Limits {
    std::size_t max_messages = 256;
    std::size_t max_bytes = 512 * 1024;
    std::size_t max_coalesced_bytes = 64 * 1024;
  };
  struct Message {
    std::vector<std::uint8_t> bytes;
    bool binary = false;
    bool audio = false;  // carries the caller's audio (every binary message; text when pushed as audio)
    std::chrono::steady_clock::time_point queued_at{};  // audio: when its oldest frame was queued
  };

  WriteQueue() : WriteQueue(Limits{}) {}
  explicit WriteQueue(Limits limits);

  // `front_in_flight`: the front message is being written and must not change. False (nothing queued)
  // when the message would exceed a limit: the caller treats the connection as stuck.
  bool push_text(std::string_view text, bool front_in_flight, bool audio = false);
  bool push_binary(std::span<const std::uint8_t> data, bool front_in_flight);

  const Message& front() const { return slots_[head_]; }
  void pop();

  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  // Buffer capacity held by the queue (slots and spares), for memory accounting and tests.
  std::size_t retained_capacity() const;

 private:
  bool push(std::span<const std::uint8_t> data, bool binary, bool audio, bool front_in_flight);

  Limits limits_;
  std::vector<Message> slots_;
  static constexpr std::size_t kSpareBuffers = 4;
  static constexpr std::size_t kMaxSpareBytes = 4096;
  std::vector<std::vector<std::uint8_t>> spare_;  // recycled message buffers (see pop())
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace warmline::ai
