// RFC 4733 telephone-events (DTMF): a receiver that turns the packet stream of one RTP source into key
// presses, and a sender that produces the payloads for one key press.
//
// Payload (RFC 4733 §2.3): event (8 bits) | E (1) R (1) volume (6) | duration (16, timestamp units).
// All packets of one event share the RTP timestamp of its start; the duration grows; the last packet
// has E set and is sent three times (§2.5.1.4).
//
// Thread: plain state machines with no I/O, owned by one RtpSession (one shard).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace warmline::rtp {

constexpr size_t kDtmfPayloadSize = 4;

struct DtmfDigit {
  char digit = 0;            // '0'-'9', '*', '#', 'A'-'D'
  uint32_t duration_ms = 0;
  bool operator==(const DtmfDigit&) const = default;
};

// Event code <-> digit (RFC 4733 §3.2 table 3). Codes 16 (flash) and above have no digit.
std::optional<char> dtmf_event_digit(uint8_t event);
std::optional<uint8_t> dtmf_digit_event(char digit);

// At most two digits come out of one packet: the previous press whose end packets were all lost,
// and the current one when this packet is its end.
struct DtmfFeedResult {
  std::array<DtmfDigit, 2> digits{};
  size_t count = 0;
  // Iterable directly, so `for (auto& d : receiver.feed(...))` keeps the result alive; view() on a
  // temporary is deleted because the span would dangle.
  std::span<const DtmfDigit> view() const& { return {digits.data(), count}; }
  std::span<const DtmfDigit> view() const&& = delete;
  const DtmfDigit* begin() const { return digits.data(); }
  const DtmfDigit* end() const { return digits.data() + count; }
};

class DtmfReceiver {
 public:
  explicit DtmfReceiver(uint32_t clock_rate = 8000) : clock_rate_(clock_rate) {}

  // One telephone-event payload and its RTP timestamp. Each press is reported exactly once: on its
  // first end packet (retransmitted ends are recognised by their timestamp), or, if every end packet
  // was lost, when the next event starts. Malformed payloads, stale timestamps and events without a
  // digit (flash, tones) are ignored.
  DtmfFeedResult feed(std::span<const uint8_t> payload, uint32_t timestamp);
  // Reports a press still open (no end seen), e.g. when the stream stops or times out.
  std::optional<DtmfDigit> flush();

 private:
  struct Event {
    uint32_t timestamp = 0;
    uint8_t code = 0;
    uint32_t duration = 0;     // timestamp units, including earlier segments of a long event
    uint32_t segment_base = 0; // sum of the durations of earlier 0xFFFF segments (§2.5.1.3)
    bool ended = false;
  };

  bool continues_long_event(uint8_t code, uint32_t timestamp) const;
  uint32_t duration_ms(const Event& e) const;

  uint32_t clock_rate_;
  std::optional<Event> current_;
};

struct DtmfPacket {
  std::array<uint8_t, kDtmfPayloadSize> payload{};
  bool marker = false;   // first packet of the event (RFC 4733 §2.5.1.2)
  bool end = false;      // E bit set; the last one is `last`
  bool last = false;
};

struct DtmfSenderOptions {
  uint32_t clock_rate = 8000;
  uint32_t packet_interval_ms = 20;
  uint8_t volume = 10;         // -dBm0, 0..63
  uint32_t end_repeats = 3;    // copies of the end packet (§2.5.1.4)
};

// Produces the packets of one key press, one per packet interval. The caller sends them all with the
// same RTP timestamp (the event's start), each with the next sequence number.
class DtmfSender {
 public:
  explicit DtmfSender(DtmfSenderOptions options = {}) : options_(options) {}

  // False (and nothing starts) for an unknown digit, a zero duration, or one longer than a single
  // event can express (0xFFFF timestamp units, 8.19 s at 8 kHz).
  bool start(char digit, uint32_t duration_ms);
  bool active() const { return active_; }
  // The next packet of the current press, or nullopt when it is complete.
  std::optional<DtmfPacket> next();

 private:
  DtmfSenderOptions options_;
  bool active_ = false;
  uint8_t event_ = 0;
  uint32_t total_ = 0;         // timestamp units
  uint32_t sent_duration_ = 0;
  uint32_t ends_sent_ = 0;
};

}  // namespace warmline::rtp
