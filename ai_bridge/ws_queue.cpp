#include "ai_bridge/ws_queue.hpp"

#include <cstring>
#include <random>

namespace warmline::ai {

namespace {

constexpr std::uint8_t kText = 0x1, kBinary = 0x2;
constexpr std::size_t kMaskBytes = 4;
constexpr std::size_t kMaxRetainedBytes = 16 * 1024;

// Writes the header of a FIN, masked frame with the payload length n at `out` (header_size(n) bytes)
// and the mask key after it.
void write_header(std::uint8_t* out, std::uint8_t opcode, std::size_t n, std::uint32_t key) {
  out[0] = static_cast<std::uint8_t>(0x80 | opcode);
  std::size_t at = 2;
  if (n < 126) {
    out[1] = static_cast<std::uint8_t>(0x80 | n);
  } else if (n <= 0xffff) {
    out[1] = 0x80 | 126;
    out[2] = static_cast<std::uint8_t>(n >> 8);
    out[3] = static_cast<std::uint8_t>(n);
    at = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
    at = 10;
  }
  std::memcpy(out + at, &key, kMaskBytes);
}

}  // namespace

void ws_frame::mask(std::uint8_t* data, std::size_t n, std::uint32_t key, std::size_t phase) {
  std::uint8_t k[kMaskBytes];
  std::memcpy(k, &key, kMaskBytes);
  std::uint8_t pattern[8];
  for (std::size_t j = 0; j < 8; ++j) pattern[j] = k[(phase + j) & 3];
  std::uint64_t wide;
  std::memcpy(&wide, pattern, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // eight bytes at a time; the pattern repeats every 4, so every 8 too
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= wide;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i) data[i] ^= pattern[i & 7];
}

WriteQueue::WriteQueue(Limits limits) : limits_(limits) {
  std::random_device rd;  // once per connection, not per frame
  prng_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) | 1;
}

std::uint32_t WriteQueue::next_mask() {
  prng_ ^= prng_ >> 12;
  prng_ ^= prng_ << 25;
  prng_ ^= prng_ >> 27;
  return static_cast<std::uint32_t>((prng_ * 0x2545F4914F6CDD1DULL) >> 32);
}

void WriteQueue::note_audio() {
  if (!pending_audio_) pending_audio_since_ = Clock::now();  // coalesced frames keep the oldest's time
  pending_audio_ = true;
}

bool WriteQueue::push_text(std::string_view text, bool audio) {
  return push({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, kText, audio);
}

bool WriteQueue::push_binary(std::span<const std::uint8_t> data) {
  if (last_binary_ && coalesce(data)) return true;
  return push(data, kBinary, true);
}

bool WriteQueue::push(std::span<const std::uint8_t> data, std::uint8_t opcode, bool audio) {
  const std::size_t head = ws_frame::header_size(data.size()) + kMaskBytes;
  if (bytes() + head + data.size() > limits_.max_bytes || size() >= limits_.max_messages) return false;
  const std::size_t at = pending_.size();
  pending_.resize(at + head + data.size());  // capacity kept across writes: no allocation once warm
  const std::uint32_t key = next_mask();
  write_header(pending_.data() + at, opcode, data.size(), key);
  if (!data.empty()) std::memcpy(pending_.data() + at + head, data.data(), data.size());
  ws_frame::mask(pending_.data() + at + head, data.size(), key, 0);
  ++pending_frames_;
  last_binary_ = opcode == kBinary;
  last_offset_ = at;
  last_payload_ = data.size();
  last_mask_ = key;
  if (audio) note_audio();
  return true;
}

// Appends to the last pending binary message: its header is rewritten for the new length (moving the
// payload when the length field grows) and the new bytes continue its mask.
bool WriteQueue::coalesce(std::span<const std::uint8_t> data) {
  const std::size_t total = last_payload_ + data.size();
  if (total > limits_.max_coalesced_bytes) return false;
  const std::size_t old_head = ws_frame::header_size(last_payload_) + kMaskBytes;
  const std::size_t new_head = ws_frame::header_size(total) + kMaskBytes;
  if (bytes() + (new_head - old_head) + data.size() > limits_.max_bytes) return false;
  const std::size_t end = pending_.size();  // the last frame ends the buffer
  pending_.resize(end + (new_head - old_head) + data.size());
  std::uint8_t* frame = pending_.data() + last_offset_;
  if (new_head != old_head) std::memmove(frame + new_head, frame + old_head, last_payload_);
  write_header(frame, kBinary, total, last_mask_);
  std::memcpy(frame + new_head + last_payload_, data.data(), data.size());
  ws_frame::mask(frame + new_head + last_payload_, data.size(), last_mask_, last_payload_ & 3);
  last_payload_ = total;
  note_audio();
  return true;
}

void WriteQueue::push_framed(std::span<const std::uint8_t> frames) {
  pending_.insert(pending_.end(), frames.begin(), frames.end());
  ++pending_frames_;
  last_binary_ = false;
}

std::span<const std::uint8_t> WriteQueue::begin_write() {
  inflight_.swap(pending_);  // pending_ takes the drained buffer (its capacity) for the next batch
  pending_.clear();
  inflight_frames_ = pending_frames_;
  inflight_audio_ = pending_audio_;
  inflight_audio_since_ = pending_audio_since_;
  pending_frames_ = 0;
  pending_audio_ = false;
  last_binary_ = false;  // the frame in flight must not change
  writing_ = true;
  write_started_ = Clock::now();
  return {inflight_.data(), inflight_.size()};
}

WriteQueue::Batch WriteQueue::end_write() {
  Batch b{inflight_frames_, inflight_.size(), inflight_audio_, inflight_audio_since_};
  inflight_.clear();
  // A backlog's big batch does not stay held for the connection's life: the steady state's batches
  // (a frame or a few per 20 ms) fit far below this.
  if (inflight_.capacity() > kMaxRetainedBytes) std::vector<std::uint8_t>().swap(inflight_);
  inflight_frames_ = 0;
  inflight_audio_ = false;
  writing_ = false;
  return b;
}

}  // namespace warmline::ai
