// SDP (RFC 4566) model, parser and serializer, and the offer/answer rules (RFC 3264) warmline applies
// to audio: PCMU/PCMA (or any codec named in the local preference list) plus telephone-event
// (RFC 4733).
//
// The parser is lenient where real carriers are sloppy (LF or CRLF, unknown line types and attributes,
// blank lines, trailing whitespace) and strict where a wrong guess would send media to the wrong place
// (a malformed m=, c= or o= line is an error). Unknown lines and attributes are kept so a re-serialized
// description loses nothing. Parsing never throws and never crashes on untrusted input.
//
// Thread: pure functions and values; usable from any shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/sdp_crypto.hpp"

namespace warmline::sip {

// RFC 4566 §6 / RFC 3264 §5.1. From the point of view of the side that wrote the description.
enum class MediaDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive };

std::string_view to_string(MediaDirection direction);
// The direction an answerer writes for an offered direction (RFC 3264 §6.1): sendonly <-> recvonly.
MediaDirection mirror(MediaDirection direction);

struct SdpOrigin {                 // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
  std::string username = "-";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;
};

struct SdpConnection {             // c=<nettype> <addrtype> <connection-address>
  std::string net_type = "IN";
  std::string addr_type = "IP4";   // "IP4" or "IP6"
  std::string address;             // without any /ttl or /count suffix
  bool is_hold_address() const;    // 0.0.0.0 (RFC 3264 §8.4, the pre-3264 way to put a call on hold)
};

struct RtpMap {                    // a=rtpmap:<pt> <name>/<clock>[/<channels>]
  uint8_t payload_type = 0;
  std::string encoding;            // as written ("PCMU", "telephone-event", "opus")
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
};

struct Fmtp {                      // a=fmtp:<pt> <params>
  uint8_t payload_type = 0;
  std::string params;
};

struct SdpAttribute {              // any other a= line: a=<name>[:<value>]
  std::string name;
  std::string value;
  bool has_value = false;
};

struct MediaDescription {
  std::string media;               // "audio", "video", "image", ...
  uint16_t port = 0;               // 0 = stream refused/disabled (RFC 3264 §6)
  uint16_t port_count = 1;         // m=audio 49170/2 ...
  std::string proto;               // "RTP/AVP", "RTP/SAVP", "udptl", ...
  std::vector<std::string> formats;  // payload types for RTP protos, in the offerer's preference order
  std::vector<RtpMap> rtpmaps;
  std::vector<Fmtp> fmtps;
  std::optional<MediaDirection> direction;  // absent: inherit the session level, else sendrecv
  std::optional<uint32_t> ptime;
  std::optional<SdpConnection> connection;  // overrides the session-level c=
  std::vector<SdpAttribute> attributes;     // every other a= line, in order
  std::vector<std::string> other_lines;     // i=, b=, k= lines, verbatim ("b=AS:64")

  const RtpMap* find_rtpmap(uint8_t payload_type) const;
  const Fmtp* find_fmtp(uint8_t payload_type) const;
  // The codec behind a payload type: its rtpmap, else the static RFC 3551 assignment (0 = PCMU/8000,
  // 8 = PCMA/8000, ...), else nullopt.
  std::optional<RtpMap> codec(uint8_t payload_type) const;
  bool is_rtp() const;             // proto starts with "RTP/"
};

struct SessionDescription {
  SdpOrigin origin;
  std::string session_name = "-";
  std::optional<SdpConnection> connection;
  std::string timing = "0 0";      // t= line value
  std::optional<MediaDirection> direction;  // session-level a=sendrecv/...
  std::vector<SdpAttribute> attributes;     // other session-level a= lines
  std::vector<std::string> other_lines;     // other session-level lines (i=, u=, e=, b=, r=, z=, ...)
  std::vector<MediaDescription> media;

  // Media level first, then session level, then sendrecv (RFC 4566 §6).
  MediaDirection effective_direction(const MediaDescription& m) const;
  const SdpConnection* effective_connection(const MediaDescription& m) const;
  // CRLF-terminated lines in RFC 4566 §5 order.
  std::string serialize() const;
};

struct SdpParseResult {
  std::optional<SessionDescription> sdp;  // set on success
  std::string error;                      // why not, with the line number
};

SdpParseResult parse_sdp(std::string_view text);

// The static payload types of RFC 3551 §6 that an SDP may use without an rtpmap.
std::optional<RtpMap> static_payload_type(uint8_t payload_type);

// ---- Offer/answer (RFC 3264) -------------------------------------------------------------------

// SRTP per trunk: off = plain RTP/AVP only (an RTP/SAVP-only offer gets 488); optional = an RTP/SAVP
// stream with a usable a=crypto line is taken as SRTP, an RTP/AVP one as plain RTP, whichever the offer
// lists first; required = only RTP/SAVP with a usable a=crypto line (plain-only offers get 488).
enum class SrtpMode { kOff, kOptional, kRequired };

struct LocalMediaCaps {
  std::vector<std::string> codecs = {"PCMU", "PCMA"};  // preference order, names case-insensitive
  bool telephone_event = true;     // offer/accept RFC 4733 telephone-event/8000 (events 0-16)
  uint8_t telephone_event_pt = 101;  // the payload type we use for it in our own offers
  uint8_t opus_pt = 111;           // Opus's dynamic payload type in our own offers (an offer of Opus alone)
  std::string local_ip;            // IPv4 or IPv6 literal written into o= and c=
  uint16_t local_rtp_port = 0;
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string username = "-";
  std::string session_name = "warmline";
  uint32_t ptime = 20;
  // SRTP (RFC 4568 SDES). Our own offers are RTP/SAVP with one a=crypto line per suite only when
  // srtp == kRequired (a plain offer for kOptional: an RTP/SAVP offer would fail against plain peers).
  SrtpMode srtp = SrtpMode::kOff;
  std::vector<SrtpSuite> srtp_suites = {SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32,
                                        SrtpSuite::kAeadAes128Gcm};  // accepted, and offered in this order
};

// The SDES keys of an SRTP stream, both directions. Secret: never log.
struct SrtpKeying {
  uint32_t tag = 0;                // the a=crypto tag both sides agreed on
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  SdesKey local;                   // protects what we send (the key our SDP carries)
  SdesKey remote;                  // unprotects what the peer sends (the key its SDP carries)
  std::optional<uint64_t> remote_lifetime;  // in packets, when the peer limited its key
  std::optional<SdesMki> remote_mki;        // the MKI the peer puts into its packets
};

struct NegotiatedCodec {
  uint8_t payload_type = 0;
  std::string name;                // as the offer wrote it
  uint32_t clock_rate = 8000;
  uint32_t channels = 1;
};

struct AnswerResult {
  bool ok = false;
  // On success:
  SessionDescription answer;
  NegotiatedCodec codec;
  std::optional<uint8_t> telephone_event_pt;  // the offer's pt for telephone-event, if both support it
  std::string remote_address;      // where to send RTP ("0.0.0.0" while held the old way)
  uint16_t remote_port = 0;
  MediaDirection direction = MediaDirection::kSendRecv;  // our direction, as written in the answer
  size_t media_index = 0;          // which m= line carries the call's audio
  std::optional<SrtpKeying> srtp;  // set when the stream is RTP/SAVP; absent for plain RTP/AVP
  // On failure: the SIP response to send (488 Not Acceptable Here, RFC 3261 §21.4.26) and why.
  int status_code = 0;
  std::string reason_phrase;
  std::string failure_reason;      // for logs and the Warning header
};

// Answers an offer: the first usable audio stream (RTP/AVP or RTP/SAVP as caps.srtp allows; an SAVP one
// needs an a=crypto line we can use, RFC 4568 §7.1.2) gets the first codec in the offerer's order that
// we also support at its RFC 3551 clock rate (RFC 3264 §6.1) (and telephone-event when both sides
// support it); every other m= line is refused with port 0, as RFC 3264 §6 requires (the answer has as
// many m= lines as the offer, same order). An SRTP answer carries our own fresh key for the tag taken.
AnswerResult negotiate_answer(const SessionDescription& offer, const LocalMediaCaps& caps);

// Our own offer (outbound legs): one audio stream with the local codecs that have a static payload
// type, plus telephone-event on caps.telephone_event_pt; RTP/SAVP with fresh keys when caps.srtp is
// kRequired, else RTP/AVP.
SessionDescription make_offer(const LocalMediaCaps& caps);
// An offer of the media we already run (RFC 3264 §8, RFC 6337 §5.3): when a peer asks for our offer
// in a session that exists (a re-INVITE or UPDATE without SDP, e.g. to take a call off hold), we offer
// the negotiated codec (and telephone-event) and always sendrecv, so the peer can resume. With
// caps.srtp == kRequired it is RTP/SAVP with fresh keys (a rekey, RFC 4568 §7.1.4).
SessionDescription make_offer(const LocalMediaCaps& caps, const NegotiatedCodec& codec,
                              std::optional<uint8_t> telephone_event_pt);

// Takes the answer to an offer we made (`offer`): the codec the answerer chose among ours, where to
// send RTP and in which direction, and for an RTP/SAVP offer the SRTP keys (the answer's a=crypto must
// name a tag and suite of our offer). `answer` in the result is the peer's description as given. Fails
// (488 semantics) when the answer refuses our audio stream or picks nothing we offered.
AnswerResult accept_answer(const SessionDescription& offer, const SessionDescription& answer,
                           const LocalMediaCaps& caps);

// True when the description puts its first active audio stream on hold: a=sendonly, a=inactive,
// or c=0.0.0.0.
bool is_hold(const SessionDescription& sdp);

}  // namespace warmline::sip
