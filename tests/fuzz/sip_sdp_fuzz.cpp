// libFuzzer target: the SDP parser and serializer and the offer/answer rules (sip/sdp.cpp,
// sip/sdp_crypto.cpp, sip/sdp_offer_answer.cpp). Every input is an SDP body: what parses must serialize
// to text that parses again and serializes to the same bytes; then it is answered as an offer
// (negotiate_answer, with SRTP optional so both RTP/AVP and RTP/SAVP streams are tried), and taken as
// the answer to our own offers (accept_answer, plain and SRTP). Answers warmline writes must parse.
// Build and run: tests/fuzz/README.md; seeds and findings in corpus/sip_sdp/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "sip/sdp.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::sip;
using warmline::fuzz::require;

LocalMediaCaps caps(SrtpMode srtp) {
  LocalMediaCaps c;
  c.local_ip = "192.0.2.10";
  c.local_rtp_port = 40000;
  c.session_id = 1;
  c.session_version = 1;
  c.srtp = srtp;
  return c;
}

// What warmline writes for a peer must be SDP it would accept itself.
void require_reparses(const SessionDescription& sdp, const char* what) {
  const std::string text = sdp.serialize();
  const SdpParseResult again = parse_sdp(text);
  if (!again.sdp) {
    std::fprintf(stderr, "%s\n", again.error.c_str());
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  require(again.sdp.has_value(), what);
  const std::string second = again.sdp->serialize();
  if (second != text) {
    std::fputs("first serialization:\n", stderr);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fputs("second serialization:\n", stderr);
    std::fwrite(second.data(), 1, second.size(), stderr);
  }
  require(second == text, "serialize -> parse -> serialize gives other bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const SdpParseResult parsed = parse_sdp(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.sdp) {
    require(!parsed.error.empty(), "an SDP refused without a reason");
    return 0;
  }
  const SessionDescription& sdp = *parsed.sdp;
  require_reparses(sdp, "a parsed SDP, serialized, does not parse again");
  (void)is_hold(sdp);

  const AnswerResult answer = negotiate_answer(sdp, caps(SrtpMode::kOptional));
  if (answer.ok) {
    require(answer.answer.media.size() == sdp.media.size(), "the answer's m= lines differ from the offer's");
    require(answer.media_index < sdp.media.size(), "the chosen stream is not in the offer");
    require_reparses(answer.answer, "our answer does not parse");
  } else {
    require(answer.status_code >= 400 && answer.status_code <= 699, "a refused offer without a 4xx-6xx");
  }

  for (SrtpMode mode : {SrtpMode::kOff, SrtpMode::kRequired}) {
    const LocalMediaCaps ours = caps(mode);
    const SessionDescription offer = make_offer(ours);
    const AnswerResult taken = accept_answer(offer, sdp, ours);
    if (taken.ok) require(taken.media_index < sdp.media.size(), "the taken stream is not in the answer");
  }
  return 0;
}
