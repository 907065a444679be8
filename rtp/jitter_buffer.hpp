#pragma once
// Adaptive receive jitter buffer for one RTP stream (RFC 3550 timing). Packets go in as they arrive, in
// any order; once per media-clock tick get() hands out exactly one frame of decoded PCM: the packet due
// now, codec concealment (PLC, or opus FEC from the next packet) for a lost one, or silence before the
// stream starts and during DTX.
//
// Ordered by RTP timestamp (RFC 3550 section 5.1: sequence numbers only detect duplicates). The playout
// delay adapts to the measured interarrival jitter (section 6.4.1 estimator) between min and max delay.
// RTP fields come in as plain values so this does not depend on the socket code. Single-threaded (the
// leg's shard); all memory is reserved in the constructor.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/codec.hpp"
#include "media/frame.hpp"

namespace warmline::rtp {

struct JitterBufferOptions {
  uint32_t ptime_ms = 20;           // frame handed out per get() (10 or 20)
  uint32_t min_delay_ms = 20;       // playout delay bounds; the target adapts between them
  uint32_t max_delay_ms = 200;
  uint32_t initial_delay_ms = 40;
  size_t capacity = 32;             // packets held (640 ms of 20 ms packets)
  size_t max_payload_bytes = 320;   // per packet; larger payloads are refused and counted, not cut
  uint32_t max_jump_ms = 2000;      // a timestamp this far from the playout point restarts the stream
  uint32_t max_conceal_ms = 60;     // conceal up to this much of a gap; beyond it, skip ahead / silence
};

struct JitterPacket {
  uint32_t ssrc = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  bool marker = false;  // start of a talkspurt (after DTX/silence suppression)
  std::span<const uint8_t> payload;
  std::chrono::steady_clock::time_point arrival{};
};

enum class PutResult {
  kStored,
  kDuplicate,  // same timestamp already buffered
  kLate,       // its time has already been played (or concealed)
  kTooLarge,   // payload over max_payload_bytes
  kEmpty,      // no payload
  kOverflow,   // buffer full: the oldest packet was dropped to make room (this one is stored)
};

enum class FrameKind {
  kDecoded,    // all from received packets
  kConcealed,  // some or all samples made up by PLC/FEC for lost or late packets
  kSilence,    // nothing to play: not started yet, or DTX / long underrun
};

struct JitterStats {
  uint64_t received = 0;
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t lost = 0;             // packets never received in time (estimated from timestamp gaps)
  uint64_t concealed_frames = 0; // frames with concealment
  uint64_t fec_recovered = 0;    // lost packets rebuilt from the next packet's FEC
  uint64_t underruns = 0;        // get() found nothing while playing
  uint64_t overflow_drops = 0;
  uint64_t too_large = 0;
  uint64_t decode_errors = 0;
  uint64_t resyncs = 0;          // timestamp jumps that restarted playout
  uint64_t ssrc_changes = 0;
  uint64_t adaptive_drops = 0;   // frames skipped to shrink the delay
  uint32_t depth_ms = 0;         // buffered audio ahead of the playout point
  uint32_t target_delay_ms = 0;
  double jitter_ms = 0.0;        // RFC 3550 interarrival jitter
};

class JitterBuffer {
 public:
  // `decoder` (owned by the leg) must outlive the buffer; its pcm rate sets the output frames' rate.
  JitterBuffer(JitterBufferOptions options, media::Decoder& decoder);

  PutResult put(const JitterPacket& packet);
  // Exactly one frame of options.ptime_ms at the decoder's rate, every call.
  FrameKind get(media::Frame& out);

  const JitterStats& stats() const { return stats_; }
  void reset();  // forget everything (the stream restarts with prefetch)

 private:
  struct Slot {
    uint32_t timestamp = 0;
    uint16_t sequence = 0;
    uint16_t size = 0;
    bool marker = false;
  };

  int32_t ts_diff(uint32_t a, uint32_t b) const { return static_cast<int32_t>(a - b); }
  uint32_t ms_to_ts(uint32_t ms) const { return clock_rate_ / 1000 * ms; }
  uint32_t samples_to_ts(size_t samples) const;
  std::span<const uint8_t> payload_of(uint16_t slot) const;
  void update_jitter(const JitterPacket& p);
  void update_target();
  void insert(const JitterPacket& p);
  void pop_head();
  void flush();
  bool maybe_start();
  uint32_t buffered_ts() const;
  void fill_from_staging(std::span<int16_t> out, size_t& filled);
  bool decode_head();
  void handle_gap(std::span<int16_t> out, size_t& filled, FrameKind& kind);
  void conceal(std::span<int16_t> out, FrameKind& kind);
  void maybe_shrink();

  JitterBufferOptions options_;
  media::Decoder& decoder_;
  uint32_t clock_rate_;
  uint32_t pcm_rate_;
  size_t frame_samples_;

  std::vector<Slot> slots_;
  std::vector<uint8_t> slab_;         // capacity x max_payload_bytes
  std::vector<uint16_t> order_;       // slot indices sorted by timestamp
  std::vector<uint16_t> free_;
  std::vector<int16_t> staging_;      // decoded PCM not yet handed out (a packet longer than a frame)
  size_t staged_pos_ = 0;
  size_t staged_len_ = 0;

  bool have_ssrc_ = false;
  uint32_t ssrc_ = 0;
  bool playing_ = false;
  uint32_t play_ts_ = 0;              // timestamp of the next packet due (after the staged samples)
  uint32_t newest_end_ts_ = 0;        // end of the newest stored packet
  uint32_t packet_ts_ = 0;            // duration of the last decoded packet, in timestamp units
  uint32_t target_ts_ = 0;
  uint32_t empty_run_ = 0;            // consecutive get()s with nothing to play
  uint32_t excess_run_ = 0;           // consecutive get()s with depth well over target
  bool have_transit_ = false;
  int64_t last_transit_ = 0;
  double jitter_ts_ = 0.0;
  JitterStats stats_;
};

}  // namespace warmline::rtp
