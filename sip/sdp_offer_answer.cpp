// Offer/answer for audio (RFC 3264 §5, §6, §8.4) on top of the SDP model in sdp.cpp; SDES-SRTP
// (RFC 4568 §7) on top of sdp_crypto.cpp.
#include <algorithm>
#include <charconv>

#include "sip/message.hpp"
#include "sip/sdp.hpp"

namespace warmline::sip {
namespace {

constexpr std::string_view kTelephoneEvent = "telephone-event";
constexpr std::string_view kTelephoneEventRange = "0-16";  // DTMF 0-9 * # A-D and flash (RFC 4733 §3.2)
constexpr uint32_t kTelephoneEventClock = 8000;
// What our Opus offer asks of the peer's encoder (RFC 7587 §6.1): 20 ms frames and in-band FEC.
constexpr std::string_view kOpusFmtp = "minptime=20;useinbandfec=1";
constexpr std::string_view kAvp = "RTP/AVP";
constexpr std::string_view kSavp = "RTP/SAVP";
constexpr std::string_view kCrypto = "crypto";

std::optional<uint8_t> format_payload_type(std::string_view format) {
  unsigned pt = 0;
  auto [ptr, ec] = std::from_chars(format.data(), format.data() + format.size(), pt);
  if (ec != std::errc{} || ptr != format.data() + format.size() || pt > 127) return std::nullopt;
  return static_cast<uint8_t>(pt);
}

std::string addr_type_of(std::string_view ip) {
  return ip.find(':') == std::string_view::npos ? "IP4" : "IP6";
}

// The clock rate RFC 3551 / RFC 7587 fix for each codec we can run: an offer of `PCMU/1` names a codec
// we do not have (RFC 3264 §6.1: a format is the name *and* its rate), so it must not match PCMU.
// G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
uint32_t expected_clock_rate(std::string_view encoding) {
  if (iequals(encoding, "opus")) return 48000;
  return 8000;  // PCMU, PCMA, G722
}

bool usable(const RtpMap& codec, std::string_view name) {
  return iequals(codec.encoding, name) && codec.clock_rate == expected_clock_rate(name);
}

// RFC 3264 §6.1: the answerer keeps the offerer's preference among the formats both sides support
// (carriers that put PCMA first — most outside North America — get PCMA). Our own list only decides
// which codecs we support at all. The answer keeps the offerer's payload type number.
std::optional<NegotiatedCodec> pick_codec(const MediaDescription& m, const LocalMediaCaps& caps) {
  for (const auto& format : m.formats) {
    auto pt = format_payload_type(format);
    auto codec = pt ? m.codec(*pt) : std::nullopt;
    if (!codec) continue;
    for (const auto& name : caps.codecs) {
      if (usable(*codec, name)) return NegotiatedCodec{*pt, codec->encoding, codec->clock_rate, codec->channels};
    }
  }
  return std::nullopt;
}

// telephone-event must run at the audio codec's clock rate (RFC 4733 §2.1: it shares the timestamp).
std::optional<uint8_t> pick_telephone_event(const MediaDescription& m, uint32_t clock_rate) {
  for (const auto& format : m.formats) {
    auto pt = format_payload_type(format);
    const RtpMap* map = pt ? m.find_rtpmap(*pt) : nullptr;
    if (map && iequals(map->encoding, kTelephoneEvent) && map->clock_rate == clock_rate) return pt;
  }
  return std::nullopt;
}

// An RFC 3264 §6 refusal: same media and proto, port 0, at least one format.
MediaDescription refused(const MediaDescription& offered) {
  MediaDescription m;
  m.media = offered.media;
  m.proto = offered.proto;
  m.formats = offered.formats;
  if (m.formats.empty()) m.formats.push_back("0");
  return m;
}

SessionDescription answer_skeleton(const LocalMediaCaps& caps) {
  SessionDescription sdp;
  sdp.origin = {caps.username, caps.session_id, caps.session_version, "IN", addr_type_of(caps.local_ip),
                caps.local_ip};
  sdp.session_name = caps.session_name;
  sdp.connection = SdpConnection{"IN", addr_type_of(caps.local_ip), caps.local_ip};
  return sdp;
}

MediaDescription audio_stream(const LocalMediaCaps& caps, MediaDirection direction) {
  MediaDescription m;
  m.media = "audio";
  m.port = caps.local_rtp_port;
  m.proto = kAvp;
  m.ptime = caps.ptime;
  m.direction = direction;
  return m;
}

void add_crypto(MediaDescription& m, const SdesCrypto& crypto) {
  m.attributes.push_back(SdpAttribute{std::string(kCrypto), format_crypto(crypto), true});
}

std::vector<std::string> crypto_values(const MediaDescription& m) {
  std::vector<std::string> values;
  for (const auto& a : m.attributes) {
    if (a.has_value && a.name == kCrypto) values.push_back(a.value);
  }
  return values;
}

// Our offer's stream as RTP/SAVP with one fresh key per suite when SRTP is required.
void secure_offer(MediaDescription& m, const LocalMediaCaps& caps) {
  if (caps.srtp != SrtpMode::kRequired) return;
  m.proto = kSavp;
  if (auto lines = make_crypto_offer(caps.srtp_suites)) {
    for (const auto& c : *lines) add_crypto(m, c);
  }  // else no randomness: an SAVP offer without keys, which any answerer refuses
}

void add_format(MediaDescription& m, const RtpMap& map, std::string_view fmtp = {}) {
  m.formats.push_back(std::to_string(map.payload_type));
  m.rtpmaps.push_back(map);
  if (!fmtp.empty()) m.fmtps.push_back({map.payload_type, std::string(fmtp)});
}

// Old-style hold (RFC 3264 §8.4): c=0.0.0.0 means "do not send to me", whatever the direction says.
MediaDirection offered_direction(const SessionDescription& offer, const MediaDescription& m) {
  MediaDirection d = offer.effective_direction(m);
  const SdpConnection* c = offer.effective_connection(m);
  if (c && c->is_hold_address()) {
    if (d == MediaDirection::kSendRecv) return MediaDirection::kSendOnly;
    if (d == MediaDirection::kRecvOnly) return MediaDirection::kInactive;
  }
  return d;
}

AnswerResult not_acceptable(std::string why) {
  AnswerResult r;
  r.status_code = 488;
  r.reason_phrase = "Not Acceptable Here";
  r.failure_reason = std::move(why);
  return r;
}

bool is_active_audio(const MediaDescription& m) { return iequals(m.media, "audio") && m.port != 0; }

// Why an offered audio stream cannot carry the call under caps.srtp, or nullopt; for RTP/SAVP the
// crypto line we take goes into `keying`.
std::optional<std::string> stream_refusal(const MediaDescription& m, const LocalMediaCaps& caps,
                                          std::optional<SdesSelection>& keying) {
  if (iequals(m.proto, kAvp)) {
    if (caps.srtp == SrtpMode::kRequired) return "SRTP is required but the offer has plain RTP/AVP audio";
    return std::nullopt;
  }
  if (!iequals(m.proto, kSavp)) return "audio over " + m.proto.substr(0, 32) + " is not supported";
  if (caps.srtp == SrtpMode::kOff) return "SRTP (RTP/SAVP) audio is not supported";
  SdesSelection selection = select_crypto(crypto_values(m), caps.srtp_suites);
  if (!selection.answer) return std::move(selection.error);
  keying = std::move(selection);
  return std::nullopt;
}

// Fills the accepted stream into `r` (codec already chosen) and returns the answer's m= line.
MediaDescription accept_stream(const SessionDescription& offer, size_t index, const NegotiatedCodec& codec,
                               const LocalMediaCaps& caps, const std::optional<SdesSelection>& keying,
                               AnswerResult& r) {
  const MediaDescription& offered = offer.media[index];
  r.ok = true;
  r.codec = codec;
  r.media_index = index;
  r.direction = mirror(offered_direction(offer, offered));
  r.remote_address = offer.effective_connection(offered)->address;
  r.remote_port = offered.port;
  MediaDescription m = audio_stream(caps, r.direction);
  if (keying) {
    const SdesCrypto& theirs = *keying->offered;
    const SdesCrypto& ours = *keying->answer;
    m.proto = kSavp;
    add_crypto(m, ours);
    r.srtp = SrtpKeying{ours.tag, ours.suite, ours.key_salt, theirs.key_salt, theirs.lifetime, theirs.mki};
  }
  add_format(m, RtpMap{codec.payload_type, codec.name, codec.clock_rate, codec.channels});
  if (caps.telephone_event) r.telephone_event_pt = pick_telephone_event(offered, codec.clock_rate);
  if (r.telephone_event_pt) {
    const Fmtp* f = offered.find_fmtp(*r.telephone_event_pt);
    std::string_view events = f && !f->params.empty() ? std::string_view(f->params) : kTelephoneEventRange;
    add_format(m, RtpMap{*r.telephone_event_pt, std::string(kTelephoneEvent), codec.clock_rate, 1}, events);
  }
  return m;
}

// RFC 4568 §7.1.3: the answer's a=crypto names the tag of one of our lines, with the same suite, and
// carries the answerer's key.
std::optional<SrtpKeying> answered_keys(const MediaDescription& ours, const MediaDescription& theirs,
                                        const LocalMediaCaps& caps, std::string& why) {
  auto answered = crypto_values(theirs);
  if (answered.size() != 1) return why = "the SRTP answer must have exactly one a=crypto line", std::nullopt;
  SdesParseResult parsed = parse_crypto(answered.front());
  if (!parsed.crypto) return why = "the answer's a=crypto: " + parsed.error, std::nullopt;
  if (auto bad = unusable_reason(*parsed.crypto)) return why = "the answer's a=crypto: " + *bad, std::nullopt;
  const SdesCrypto& t = *parsed.crypto;
  for (const auto& value : crypto_values(ours)) {
    SdesParseResult mine = parse_crypto(value);
    if (!mine.crypto || mine.crypto->tag != t.tag) continue;
    bool enabled = std::find(caps.srtp_suites.begin(), caps.srtp_suites.end(), t.suite) != caps.srtp_suites.end();
    if (mine.crypto->suite != t.suite || !enabled) break;
    return SrtpKeying{t.tag, t.suite, mine.crypto->key_salt, t.key_salt, t.lifetime, t.mki};
  }
  why = "the answer's a=crypto tag " + std::to_string(t.tag) + " does not match a line of our offer";
  return std::nullopt;
}

}  // namespace

AnswerResult negotiate_answer(const SessionDescription& offer, const LocalMediaCaps& caps) {
  std::optional<size_t> chosen;
  std::optional<NegotiatedCodec> codec;
  std::optional<SdesSelection> keying;
  bool saw_audio = false;
  std::string refusal;  // why the first refused audio stream was refused
  for (size_t i = 0; i < offer.media.size() && !chosen; ++i) {
    const MediaDescription& m = offer.media[i];
    if (!is_active_audio(m) || !offer.effective_connection(m)) continue;
    keying.reset();
    if (auto why = stream_refusal(m, caps, keying)) {
      if (refusal.empty()) refusal = std::move(*why);
      continue;
    }
    saw_audio = true;
    codec = pick_codec(m, caps);
    if (codec) chosen = i;
  }
  if (!chosen) {
    if (saw_audio) return not_acceptable("no common audio codec");
    if (!refusal.empty()) return not_acceptable(std::move(refusal));
    return not_acceptable("no RTP/AVP audio stream with a connection address offered");
  }
  AnswerResult r;
  r.answer = answer_skeleton(caps);
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& m = offer.media[i];
    r.answer.media.push_back(i == *chosen ? accept_stream(offer, i, *codec, caps, keying, r) : refused(m));
  }
  return r;
}

SessionDescription make_offer(const LocalMediaCaps& caps) {
  SessionDescription sdp = answer_skeleton(caps);
  MediaDescription m = audio_stream(caps, MediaDirection::kSendRecv);
  for (const auto& name : caps.codecs) {
    for (uint8_t pt = 0; pt < 35; ++pt) {  // RFC 3551 static audio range
      auto map = static_payload_type(pt);
      if (map && iequals(map->encoding, name) && !m.find_rtpmap(pt)) add_format(m, *map);
    }
  }
  // Opus (RFC 7587: "opus/48000/2", a dynamic payload type) only in an offer without a static codec:
  // one RTP clock per offer, which telephone-event then shares (RFC 4733 §2.1).
  uint32_t event_clock = kTelephoneEventClock;
  const bool opus = std::any_of(caps.codecs.begin(), caps.codecs.end(), [](const std::string& n) { return iequals(n, "opus"); });
  if (m.formats.empty() && opus) {
    add_format(m, RtpMap{caps.opus_pt, "opus", 48000, 2}, kOpusFmtp);
    event_clock = 48000;
  }
  if (caps.telephone_event && !m.formats.empty()) {
    add_format(m, RtpMap{caps.telephone_event_pt, std::string(kTelephoneEvent), event_clock, 1}, kTelephoneEventRange);
  }
  secure_offer(m, caps);
  sdp.media.push_back(std::move(m));
  return sdp;
}

SessionDescription make_offer(const LocalMediaCaps& caps, const NegotiatedCodec& codec,
                              std::optional<uint8_t> telephone_event_pt) {
  SessionDescription sdp = answer_skeleton(caps);
  MediaDescription m = audio_stream(caps, MediaDirection::kSendRecv);
  add_format(m, RtpMap{codec.payload_type, codec.name, codec.clock_rate, codec.channels});
  if (telephone_event_pt) {
    add_format(m, RtpMap{*telephone_event_pt, std::string(kTelephoneEvent), codec.clock_rate, 1},
               kTelephoneEventRange);
  }
  secure_offer(m, caps);
  sdp.media.push_back(std::move(m));
  return sdp;
}

AnswerResult accept_answer(const SessionDescription& offer, const SessionDescription& answer,
                           const LocalMediaCaps& caps) {
  // RFC 3264 §6: the answer has as many m= lines as the offer, in the same order; our audio stream is
  // the first m= line of our offer. A refused stream (port 0) or a codec we did not offer ends it.
  if (offer.media.empty() || answer.media.empty()) return not_acceptable("the answer has no media stream");
  const MediaDescription& ours = offer.media.front();
  const MediaDescription& theirs = answer.media.front();
  if (!is_active_audio(theirs) || !iequals(theirs.proto, ours.proto) || !answer.effective_connection(theirs))
    return not_acceptable("the answer refused or changed our audio stream");
  std::optional<SrtpKeying> keying;
  if (iequals(ours.proto, kSavp)) {
    std::string why;
    keying = answered_keys(ours, theirs, caps, why);
    if (!keying) return not_acceptable(std::move(why));
  }
  std::optional<NegotiatedCodec> codec;
  for (const auto& format : theirs.formats) {
    auto pt = format_payload_type(format);
    auto their_codec = pt ? theirs.codec(*pt) : std::nullopt;
    if (!their_codec || iequals(their_codec->encoding, kTelephoneEvent)) continue;
    auto our_codec = ours.codec(*pt);
    if (!our_codec || !iequals(our_codec->encoding, their_codec->encoding) ||
        our_codec->clock_rate != their_codec->clock_rate)
      continue;  // §6.1: the answer must use a format of the offer
    for (const auto& name : caps.codecs)
      if (usable(*their_codec, name)) codec = NegotiatedCodec{*pt, their_codec->encoding, their_codec->clock_rate,
                                                              their_codec->channels};
    if (codec) break;
  }
  if (!codec) return not_acceptable("the answer has no codec of our offer");
  AnswerResult r;
  r.ok = true;
  r.codec = *codec;
  r.media_index = 0;
  r.answer = answer;
  r.srtp = std::move(keying);
  // The answerer's direction seen from our side: their sendonly means we only receive.
  r.direction = mirror(offered_direction(answer, theirs));
  r.remote_address = answer.effective_connection(theirs)->address;
  r.remote_port = theirs.port;
  if (caps.telephone_event) r.telephone_event_pt = pick_telephone_event(theirs, codec->clock_rate);
  return r;
}

bool is_hold(const SessionDescription& sdp) {
  for (const auto& m : sdp.media) {
    if (!iequals(m.media, "audio") || m.port == 0) continue;
    MediaDirection d = sdp.effective_direction(m);
    const SdpConnection* c = sdp.effective_connection(m);
    return d == MediaDirection::kSendOnly || d == MediaDirection::kInactive || (c && c->is_hold_address());
  }
  return false;
}

}  // namespace warmline::sip
