#include "rtp/dtmf.hpp"

#include <algorithm>
#include <string_view>

namespace warmline::rtp {
namespace {

constexpr uint32_t kMaxSegmentDuration = 0xFFFF;
constexpr std::string_view kDigits = "0123456789*#ABCD";  // event codes 0-15, RFC 4733 §3.2

void emit(DtmfFeedResult& r, std::optional<char> digit, uint32_t duration_ms) {
  if (digit && r.count < r.digits.size()) r.digits[r.count++] = DtmfDigit{*digit, duration_ms};
}

}  // namespace

std::optional<char> dtmf_event_digit(uint8_t event) {
  if (event >= kDigits.size()) return std::nullopt;
  return kDigits[event];
}

std::optional<uint8_t> dtmf_digit_event(char digit) {
  if (digit >= 'a' && digit <= 'd') digit = static_cast<char>(digit - 'a' + 'A');
  size_t pos = kDigits.find(digit);
  if (pos == std::string_view::npos) return std::nullopt;
  return static_cast<uint8_t>(pos);
}

// RFC 4733 §2.5.1.3: an event longer than 0xFFFF units is cut into segments; each new segment starts
// 0xFFFF units after the previous one, with the same event code and no E bit on the earlier segment.
bool DtmfReceiver::continues_long_event(uint8_t code, uint32_t timestamp) const {
  return current_ && !current_->ended && current_->code == code &&
         timestamp - current_->timestamp == kMaxSegmentDuration;
}

uint32_t DtmfReceiver::duration_ms(const Event& e) const {
  uint64_t total = uint64_t{e.segment_base} + e.duration;
  return static_cast<uint32_t>(total * 1000 / (clock_rate_ ? clock_rate_ : 8000));
}

DtmfFeedResult DtmfReceiver::feed(std::span<const uint8_t> payload, uint32_t timestamp) {
  DtmfFeedResult r;
  if (payload.size() < kDtmfPayloadSize) return r;
  const uint8_t code = payload[0];
  const bool end = (payload[1] & 0x80) != 0;
  const uint32_t duration = uint32_t{payload[2]} << 8 | payload[3];

  if (current_ && timestamp != current_->timestamp) {
    // Serial-number comparison (timestamps wrap): an older event's straggler is ignored.
    if (static_cast<int32_t>(timestamp - current_->timestamp) < 0) return r;
    if (continues_long_event(code, timestamp)) {
      current_->segment_base += kMaxSegmentDuration;
      current_->timestamp = timestamp;
      current_->duration = 0;
    } else {
      if (!current_->ended) emit(r, dtmf_event_digit(current_->code), duration_ms(*current_));
      current_.reset();
    }
  }
  if (!current_) current_ = Event{timestamp, code, 0, 0, false};
  // Same timestamp: an update, or a retransmitted end that must not report the press again.
  if (current_->ended || current_->code != code) return r;
  current_->duration = std::max(current_->duration, duration);
  if (end) {
    current_->ended = true;
    emit(r, dtmf_event_digit(code), duration_ms(*current_));
  }
  return r;
}

std::optional<DtmfDigit> DtmfReceiver::flush() {
  if (!current_ || current_->ended) return std::nullopt;
  current_->ended = true;
  auto digit = dtmf_event_digit(current_->code);
  if (!digit) return std::nullopt;
  return DtmfDigit{*digit, duration_ms(*current_)};
}

bool DtmfSender::start(char digit, uint32_t duration_ms) {
  auto event = dtmf_digit_event(digit);
  uint64_t total = uint64_t{duration_ms} * options_.clock_rate / 1000;
  if (!event || total == 0 || total > kMaxSegmentDuration) return false;
  event_ = *event;
  total_ = static_cast<uint32_t>(total);
  sent_duration_ = 0;
  ends_sent_ = 0;
  active_ = true;
  return true;
}

std::optional<DtmfPacket> DtmfSender::next() {
  if (!active_) return std::nullopt;
  DtmfPacket packet;
  packet.marker = sent_duration_ == 0;
  if (sent_duration_ < total_) {
    uint32_t step = std::max<uint32_t>(1, options_.packet_interval_ms * options_.clock_rate / 1000);
    sent_duration_ = std::min(total_, sent_duration_ + step);
  }
  packet.end = sent_duration_ >= total_;
  if (packet.end) {
    ++ends_sent_;
    packet.last = ends_sent_ >= std::max<uint32_t>(1, options_.end_repeats);
    active_ = !packet.last;
  }
  packet.payload = {event_, static_cast<uint8_t>((packet.end ? 0x80 : 0) | (options_.volume & 0x3f)),
                    static_cast<uint8_t>(sent_duration_ >> 8), static_cast<uint8_t>(sent_duration_)};
  return packet;
}

}  // namespace warmline::rtp
