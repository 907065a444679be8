#pragma once
// Internal to media/: spandsp's packet-loss concealer (ITU-T G.711 Appendix I style pitch repetition
// with fade-out). Embedded by value, so no allocation. The decoders that lack a PLC of their own (G.711,
// G.722) feed every decoded block through rx() and call fillin() for a lost one.
#include <cinttypes>
#include <cstdint>
#include <span>

// spandsp.h pulls in libtiff; the two headers needed here stand alone after telephony.h.
#include <spandsp/telephony.h>
#include <spandsp/plc.h>

namespace warmline::media::detail {

class SpanPlc {
 public:
  SpanPlc() { plc_init(&state_); }
  SpanPlc(const SpanPlc&) = delete;
  SpanPlc& operator=(const SpanPlc&) = delete;

  // Records received audio; right after a concealed gap it also smooths the join (modifies pcm).
  void rx(std::span<int16_t> pcm) { plc_rx(&state_, pcm.data(), static_cast<int>(pcm.size())); }
  void fillin(std::span<int16_t> pcm) { plc_fillin(&state_, pcm.data(), static_cast<int>(pcm.size())); }
  void reset() { plc_init(&state_); }

 private:
  plc_state_t state_{};
};

}  // namespace warmline::media::detail
