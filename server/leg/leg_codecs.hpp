// Codec choices the legs share: what a name means, which codecs one media session can switch between
// (those of one PCM rate: its playout buffer, resamplers and tones run at that rate), and the first
// audio codec of an offer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/codec.hpp"
#include "sip/message.hpp"
#include "sip/sdp.hpp"

namespace warmline::server {

const media::CodecInfo* codec_info(std::string_view name);

// `codecs` (a preference list) reduced to those sharing the PCM rate of `first`, which leads; `first`
// itself is kept only when it is one of `codecs`. Without a usable `first`: the rate of codecs[0].
std::vector<std::string> same_rate_codecs(const std::vector<std::string>& codecs, std::string_view first = {});

// The first audio codec of our own offer (not telephone-event).
std::optional<sip::RtpMap> first_codec(const sip::SessionDescription& offer);

}  // namespace warmline::server
