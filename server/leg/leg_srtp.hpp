// SRTP on call legs: the trunk's srtp policy as offer/answer caps, and the libsrtp contexts of a stream
// built from the keys the SDP exchange agreed on (sip::SrtpKeying -> rtp::SrtpSession).
// Keys are never logged; errors name no key material.
// Thread: pure functions; the session they return belongs to the leg's shard.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "rtp/srtp_session.hpp"
#include "server/config.hpp"
#include "server/leg/leg_media.hpp"
#include "sip/sdp.hpp"

namespace warmline::server {

sip::SrtpMode srtp_mode(SrtpPolicy policy);
// The trunk's policy (off without a trunk).
sip::SrtpMode srtp_mode(const TrunkConfig* trunk);

// The contexts for a negotiated stream: ours protects what we send, the peer's (with its MKI and key
// lifetime) unprotects what it sends. Null with `error` set when libsrtp refuses the keys.
std::shared_ptr<rtp::SrtpSession> make_srtp_session(const sip::SrtpKeying& keying, std::string& error);

// Puts the stream of `media` on the keys of an accepted offer/answer: new contexts for an SRTP stream,
// plain RTP for none. False (nothing changed) when the contexts cannot be built.
bool apply_srtp(MediaSession& media, const std::optional<sip::SrtpKeying>& keying, std::string& error);

// Whether two agreements carry the same keys (both plain counts as the same): a refresh's answer with
// the same keys keeps the running contexts, whose rollover counters and replay windows a fresh context
// would lose (RFC 3711 §3.3.1).
bool same_srtp_keys(const std::optional<sip::SrtpKeying>& a, const std::optional<sip::SrtpKeying>& b);

// The SRTP mode of offers and answers inside a running session: SRTP stays SRTP (an offer that drops
// it is refused, RFC 4568 §7.1.4 rekeys with fresh keys), plain stays plain.
inline sip::SrtpMode renegotiation_mode(const MediaSession& media) {
  return media.srtp() ? sip::SrtpMode::kRequired : sip::SrtpMode::kOff;
}

}  // namespace warmline::server
