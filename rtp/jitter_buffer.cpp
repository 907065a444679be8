#include "rtp/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace warmline::rtp {
namespace {

constexpr uint32_t kShrinkAfterTicks = 10;  // 200 ms of excess depth before dropping a frame
constexpr size_t kMaxPacketMs = 120;         // longest packet decoded (opus maximum, RFC 7587)

}  // namespace

JitterBuffer::JitterBuffer(JitterBufferOptions options, media::Decoder& decoder)
    : options_(options), decoder_(decoder), clock_rate_(decoder.info().clock_rate),
      pcm_rate_(decoder.pcm_rate_hz()) {
  if (options_.ptime_ms != 10) options_.ptime_ms = 20;
  options_.capacity = std::clamp<size_t>(options_.capacity, 2, 1024);
  options_.max_delay_ms = std::max(options_.max_delay_ms, options_.min_delay_ms);
  frame_samples_ = static_cast<size_t>(pcm_rate_) * options_.ptime_ms / 1000;
  slots_.resize(options_.capacity);
  slab_.resize(options_.capacity * options_.max_payload_bytes);
  order_.reserve(options_.capacity);
  free_.reserve(options_.capacity);
  for (size_t i = options_.capacity; i > 0; --i) free_.push_back(static_cast<uint16_t>(i - 1));
  staging_.resize(static_cast<size_t>(pcm_rate_) * kMaxPacketMs / 1000);
  target_ts_ = ms_to_ts(std::clamp(options_.initial_delay_ms, options_.min_delay_ms, options_.max_delay_ms));
  stats_.target_delay_ms = target_ts_ * 1000 / clock_rate_;
}

uint32_t JitterBuffer::samples_to_ts(size_t samples) const {
  return static_cast<uint32_t>(static_cast<uint64_t>(samples) * clock_rate_ / pcm_rate_);
}

std::span<const uint8_t> JitterBuffer::payload_of(uint16_t slot) const {
  return {slab_.data() + static_cast<size_t>(slot) * options_.max_payload_bytes, slots_[slot].size};
}

PutResult JitterBuffer::put(const JitterPacket& p) {
  if (p.payload.empty()) return PutResult::kEmpty;
  if (p.payload.size() > options_.max_payload_bytes) {
    ++stats_.too_large;
    return PutResult::kTooLarge;
  }
  if (!have_ssrc_) {
    have_ssrc_ = true;
    ssrc_ = p.ssrc;
  } else if (p.ssrc != ssrc_) {
    // A new source (re-INVITE, transfer at the far end): its timestamps mean nothing to ours.
    ++stats_.ssrc_changes;
    reset();
    have_ssrc_ = true;
    ssrc_ = p.ssrc;
  }
  update_jitter(p);  // late packets too: lateness is exactly what the delay must adapt to
  if (playing_) {
    const int32_t d = ts_diff(p.timestamp, play_ts_);
    if (d < -static_cast<int32_t>(ms_to_ts(options_.max_jump_ms))) {
      ++stats_.resyncs;  // the sender restarted its timestamps: start over
      const uint32_t ssrc = ssrc_;
      reset();
      have_ssrc_ = true;
      ssrc_ = ssrc;
    } else if (d < 0) {
      ++stats_.late;
      return PutResult::kLate;
    }
  }
  for (uint16_t idx : order_) {
    if (slots_[idx].timestamp == p.timestamp) {
      ++stats_.duplicates;
      return PutResult::kDuplicate;
    }
  }
  ++stats_.received;
  PutResult result = PutResult::kStored;
  if (free_.empty()) {
    pop_head();  // the oldest would be played first; it becomes a loss that get() conceals
    ++stats_.overflow_drops;
    result = PutResult::kOverflow;
  }
  insert(p);
  stats_.depth_ms = buffered_ts() * 1000 / clock_rate_;
  return result;
}

void JitterBuffer::update_jitter(const JitterPacket& p) {
  // RFC 3550 section 6.4.1 / A.8: J += (|D| - J) / 16 with D the change of transit time, all in
  // timestamp units and modulo 2^32.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(p.arrival.time_since_epoch()).count();
  const auto arrival_ts = static_cast<uint32_t>(static_cast<uint64_t>(ns) / 1000 * clock_rate_ / 1'000'000);
  const auto transit = static_cast<int64_t>(static_cast<int32_t>(arrival_ts - p.timestamp));
  if (have_transit_) {
    const int64_t d = std::llabs(transit - last_transit_);
    if (d < static_cast<int64_t>(ms_to_ts(options_.max_jump_ms))) {  // a jump is not jitter
      jitter_ts_ += (static_cast<double>(d) - jitter_ts_) / 16.0;
      stats_.jitter_ms = jitter_ts_ * 1000.0 / clock_rate_;
      update_target();
    }
  }
  have_transit_ = true;
  last_transit_ = transit;
}

void JitterBuffer::update_target() {
  // One frame plus three times the jitter covers nearly all arrivals of a roughly Gaussian jitter.
  const double want = ms_to_ts(options_.ptime_ms) + 3.0 * jitter_ts_;
  const double lo = ms_to_ts(options_.min_delay_ms), hi = ms_to_ts(options_.max_delay_ms);
  target_ts_ = static_cast<uint32_t>(std::clamp(want, lo, hi));
  stats_.target_delay_ms = target_ts_ * 1000 / clock_rate_;
}

void JitterBuffer::insert(const JitterPacket& p) {
  const uint16_t idx = free_.back();
  free_.pop_back();
  std::copy(p.payload.begin(), p.payload.end(), slab_.begin() + static_cast<std::ptrdiff_t>(idx * options_.max_payload_bytes));
  slots_[idx] = {p.timestamp, p.sequence, static_cast<uint16_t>(p.payload.size()), p.marker};
  size_t pos = order_.size();  // usually the newest: walk from the back
  while (pos > 0 && ts_diff(slots_[order_[pos - 1]].timestamp, p.timestamp) > 0) --pos;
  order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos), idx);
  const uint32_t end = p.timestamp + samples_to_ts(decoder_.samples_in(p.payload));
  if (order_.size() == 1 || ts_diff(end, newest_end_ts_) > 0) newest_end_ts_ = end;
}

void JitterBuffer::pop_head() {
  if (order_.empty()) return;
  free_.push_back(order_.front());
  order_.erase(order_.begin());
}

void JitterBuffer::flush() {
  while (!order_.empty()) pop_head();
  staged_pos_ = staged_len_ = 0;
  empty_run_ = excess_run_ = 0;
}

void JitterBuffer::reset() {
  flush();
  playing_ = false;
  have_ssrc_ = false;
  have_transit_ = false;
  decoder_.reset();
}

uint32_t JitterBuffer::buffered_ts() const {
  uint32_t ts = samples_to_ts(staged_len_ - staged_pos_);
  if (!order_.empty()) {
    const uint32_t from = playing_ ? play_ts_ : slots_[order_.front()].timestamp;
    const int32_t ahead = ts_diff(newest_end_ts_, from);
    if (ahead > 0) ts += static_cast<uint32_t>(ahead);
  }
  return ts;
}

bool JitterBuffer::maybe_start() {
  if (order_.empty()) return false;
  // Prefetch until the target delay is buffered, or give up waiting after that long (a sender that
  // only ever has one packet in flight).
  ++empty_run_;
  if (buffered_ts() < target_ts_ && empty_run_ * ms_to_ts(options_.ptime_ms) < target_ts_) return false;
  playing_ = true;
  empty_run_ = 0;
  play_ts_ = slots_[order_.front()].timestamp;
  return true;
}

FrameKind JitterBuffer::get(media::Frame& out) {
  out.set_format({pcm_rate_, options_.ptime_ms});
  if (!playing_ && !maybe_start()) {
    out.clear();
    return FrameKind::kSilence;
  }
  auto dst = out.samples();
  size_t filled = 0;
  FrameKind kind = FrameKind::kDecoded;
  while (filled < dst.size()) {
    if (staged_pos_ < staged_len_) {
      fill_from_staging(dst, filled);
      continue;
    }
    if (order_.empty()) {
      // Underrun: conceal without moving the playout point, so a merely late packet still plays
      // (the delay grows by a frame); after max_conceal_ms it is DTX or a dead stream: silence.
      ++stats_.underruns;
      ++empty_run_;
      if (empty_run_ * options_.ptime_ms > options_.max_conceal_ms) {
        std::fill(dst.begin() + static_cast<std::ptrdiff_t>(filled), dst.end(), int16_t{0});
        if (filled == 0) kind = FrameKind::kSilence;
      } else {
        conceal(dst.subspan(filled), kind);
      }
      break;
    }
    const int32_t d = ts_diff(slots_[order_.front()].timestamp, play_ts_);
    if (d < 0) {
      pop_head();  // overtaken by concealment already played
      ++stats_.late;
    } else if (d == 0) {
      if (!decode_head()) ++stats_.decode_errors;
    } else {
      handle_gap(dst, filled, kind);
    }
  }
  if (kind == FrameKind::kConcealed) ++stats_.concealed_frames;
  maybe_shrink();
  stats_.depth_ms = buffered_ts() * 1000 / clock_rate_;
  return kind;
}

void JitterBuffer::fill_from_staging(std::span<int16_t> out, size_t& filled) {
  const size_t n = std::min(staged_len_ - staged_pos_, out.size() - filled);
  std::copy_n(staging_.begin() + static_cast<std::ptrdiff_t>(staged_pos_), n,
              out.begin() + static_cast<std::ptrdiff_t>(filled));
  staged_pos_ += n;
  filled += n;
}

bool JitterBuffer::decode_head() {
  const uint16_t idx = order_.front();
  const auto payload = payload_of(idx);
  const size_t samples = decoder_.samples_in(payload);
  pop_head();  // the slab stays valid until the next insert
  if (samples == 0 || samples > staging_.size()) return false;  // its time is concealed as a gap
  const auto r = decoder_.decode(payload, staging_);
  if (!r) return false;
  staged_pos_ = 0;
  staged_len_ = r.size;
  packet_ts_ = samples_to_ts(r.size);
  play_ts_ += packet_ts_;
  empty_run_ = 0;
  return true;
}

void JitterBuffer::handle_gap(std::span<int16_t> out, size_t& filled, FrameKind& kind) {
  const Slot& head = slots_[order_.front()];
  const auto gap_ts = static_cast<uint32_t>(ts_diff(head.timestamp, play_ts_));
  if (head.marker || gap_ts > ms_to_ts(options_.max_conceal_ms)) {
    // A talkspurt after DTX (marker, RFC 3551 section 4.1) or a gap too long to make up: play on from
    // the packet instead of inventing audio for the whole gap.
    if (!head.marker && empty_run_ == 0) ++stats_.resyncs;
    play_ts_ = head.timestamp;
    return;
  }
  if (buffered_ts() < target_ts_) {
    // Less buffered than the target (jitter went up): wait for the missing packet one more frame
    // instead of declaring it lost - this is how the playout delay grows.
    conceal(out.subspan(filled), kind);
    filled = out.size();
    return;
  }
  const size_t gap_samples = static_cast<size_t>(static_cast<uint64_t>(gap_ts) * pcm_rate_ / clock_rate_);
  const size_t want = std::min(gap_samples, out.size() - filled);
  if (want == 0) {  // a sub-sample gap (odd timestamps): skip it
    play_ts_ = head.timestamp;
    return;
  }
  auto span = out.subspan(filled, want);
  const uint32_t lost_packet_ts = packet_ts_ != 0 ? packet_ts_ : ms_to_ts(options_.ptime_ms);
  if (gap_ts <= lost_packet_ts && want == gap_samples) {
    // Exactly one packet missing and its successor is here: opus rebuilds it from in-band FEC.
    const auto r = decoder_.recover(payload_of(order_.front()), span);
    if (r && decoder_.info().name == "opus") ++stats_.fec_recovered;
    if (!r) std::fill(span.begin(), span.end(), int16_t{0});
    kind = FrameKind::kConcealed;
  } else {
    conceal(span, kind);
  }
  stats_.lost += std::max<uint32_t>(1, samples_to_ts(want) / lost_packet_ts);
  play_ts_ += samples_to_ts(want);
  filled += want;
}

void JitterBuffer::conceal(std::span<int16_t> out, FrameKind& kind) {
  if (!decoder_.conceal(out)) std::fill(out.begin(), out.end(), int16_t{0});
  kind = FrameKind::kConcealed;
}

void JitterBuffer::maybe_shrink() {
  const uint32_t frame_ts = ms_to_ts(options_.ptime_ms);
  excess_run_ = buffered_ts() > target_ts_ + 2 * frame_ts ? excess_run_ + 1 : 0;
  if (excess_run_ < kShrinkAfterTicks || order_.empty() || staged_pos_ < staged_len_) return;
  if (ts_diff(slots_[order_.front()].timestamp, play_ts_) != 0) return;
  // Drop the frame due next: the delay shrinks by one packet, at the cost of one short glitch.
  play_ts_ += samples_to_ts(decoder_.samples_in(payload_of(order_.front())));
  pop_head();
  ++stats_.adaptive_drops;
  excess_run_ = 0;
}

}  // namespace warmline::rtp
