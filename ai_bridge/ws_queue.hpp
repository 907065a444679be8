#pragma once
// The outgoing side of an AgentConnection (kept apart from Beast so it can be tested and benchmarked
// alone): WebSocket frames built in place, in wire form, in one byte buffer that the connection hands
// to the socket in one write. A message is framed where it lands — header, the client's mask key
// (RFC 6455 §5.3: a client masks every frame) and the masked payload, straight from the caller's
// bytes — so queueing a frame is one pass over its payload and no allocation once the buffers have
// grown to the connection's usual batch.
//
// Two buffers: `pending` collects the frames queued since the last write began; begin_write() swaps it
// with the (drained) in-flight buffer, so what a loop iteration queued for one socket leaves in one
// write, and frames queued while that write is in flight gather for the next. A binary message queued
// right behind another one not yet written is coalesced into it (up to max_coalesced_bytes): audio
// may be any length in the native protocol, and one larger frame costs less than many small ones when
// the agent's socket is slow or still connecting. Text messages are never merged. Thread: the
// connection's io_context only.

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
    std::size_t max_messages = 256;         // frames queued or in flight
    std::size_t max_bytes = 512 * 1024;     // their bytes on the wire, headers included
    std::size_t max_coalesced_bytes = 64 * 1024;
  };
  using Clock = std::chrono::steady_clock;
  // What a finished write carried.
  struct Batch {
    std::size_t frames = 0;
    std::size_t bytes = 0;
    bool audio = false;              // some frame carried the caller's audio
    Clock::time_point audio_since{};  // when the oldest of those was queued
  };

  WriteQueue() : WriteQueue(Limits{}) {}
  explicit WriteQueue(Limits limits);

  // Frames one message (FIN, masked) at the end of the pending bytes. False (nothing queued) when it
  // would exceed a limit: the caller treats the connection as stuck. `audio`: the text carries the
  // caller's audio (a provider dialect's media event), timed like binary audio.
  bool push_text(std::string_view text, bool audio = false);
  bool push_binary(std::span<const std::uint8_t> data);
  // Bytes framed elsewhere (Beast's control frames: close, pong), whole frames, queued in order with
  // the rest. Never refused (a few bytes, and a close must get out).
  void push_framed(std::span<const std::uint8_t> frames);

  bool has_pending() const { return !pending_.empty(); }
  bool writing() const { return writing_; }
  // The pending bytes become the write in flight (they stay valid until end_write()). Only when
  // !writing() and has_pending().
  std::span<const std::uint8_t> begin_write();
  Batch end_write();
  Clock::time_point write_started() const { return write_started_; }

  bool empty() const { return !writing_ && pending_.empty(); }
  std::size_t size() const { return pending_frames_ + inflight_frames_; }  // frames
  std::size_t bytes() const { return pending_.size() + inflight_.size(); }
  // Buffer capacity held by the queue, for memory accounting and tests.
  std::size_t retained_capacity() const { return pending_.capacity() + inflight_.capacity(); }

 private:
  bool push(std::span<const std::uint8_t> data, std::uint8_t opcode, bool audio);
  bool coalesce(std::span<const std::uint8_t> data);
  std::uint32_t next_mask();
  void note_audio();

  Limits limits_;
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> inflight_;
  std::size_t pending_frames_ = 0, inflight_frames_ = 0;
  bool pending_audio_ = false, inflight_audio_ = false;
  Clock::time_point pending_audio_since_{}, inflight_audio_since_{};
  bool writing_ = false;
  Clock::time_point write_started_{};
  // The last frame in pending_ when it is a binary message that may still grow (coalescing).
  bool last_binary_ = false;
  std::size_t last_offset_ = 0;     // where its header starts
  std::size_t last_payload_ = 0;    // its payload length
  std::uint32_t last_mask_ = 0;
  std::uint64_t prng_;              // mask keys (xorshift64*, seeded once per queue)
};

// RFC 6455 §5.2 framing helpers, shared with the tests and benchmarks.
namespace ws_frame {
// Header bytes (without the mask key) for a payload of n bytes.
constexpr std::size_t header_size(std::size_t n) { return n < 126 ? 2 : n <= 0xffff ? 4 : 10; }
// XORs data with the mask key, starting at key byte `phase` (0-3).
void mask(std::uint8_t* data, std::size_t n, std::uint32_t key, std::size_t phase);
}  // namespace ws_frame

}  // namespace warmline::ai
