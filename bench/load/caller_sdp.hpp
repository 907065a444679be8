#pragma once
// The generator's callers' side of the SDP offer/answer (RFC 3264), kept apart from the SIP state machine
// so the unit tests can reach it: the offer (PCMU + telephone-event; with srtp RTP/SAVP with one
// a=crypto line, AES_CM_128_HMAC_SHA1_80, the suite carriers use) and, for SRTP, the call's session
// keyed by the offer and the gateway's answer, through the same rtp::SrtpSession::create_stream the
// gateway's legs use.
//
// Thread: pure functions.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "rtp/srtp_session.hpp"
#include "sip/sdp.hpp"

namespace warmline::load {

sip::LocalMediaCaps caller_media_caps(const std::string& local_ip, uint16_t rtp_port, uint64_t session_id, bool srtp);

// The SRTP session of a call: ours protects with our offer's key for the tag the answer took, the
// gateway's unprotects with the answer's key. Null with `error` set (never key material) when the
// answer is unparsable, refuses our audio or carries no usable a=crypto line.
std::unique_ptr<rtp::SrtpSession> caller_srtp_session(const sip::SessionDescription& offer, std::string_view answer,
                                                      std::string& error);

}  // namespace warmline::load
