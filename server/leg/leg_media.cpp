#include "server/leg/leg_media.hpp"

#include <algorithm>
#include <cstring>

namespace warmline::server {

namespace {

constexpr uint32_t kTickMs = 20;

// The playout buffer holds audio at the codec's PCM rate: the agent's audio is resampled when it
// arrives, so a media-clock tick only pulls and encodes (resampling on the tick would cost ~2.4 us per
// call per tick, most of a 1,000-call tick's budget; see bench/README.md).
ai::PlayoutBuffer::Options playout_options(uint32_t pcm_rate, LegMediaHandlers& handlers) {
  ai::PlayoutBuffer::Options o;
  o.capacity_samples = ai::PlayoutBuffer::samples_for_ms(static_cast<int>(pcm_rate), 60'000);
  o.initial_samples = ai::PlayoutBuffer::samples_for_ms(static_cast<int>(pcm_rate), 1'000);
  o.on_mark = [&handlers](std::string_view name, ai::MarkEvent event) {
    if (handlers.on_mark) handlers.on_mark(name, event);
  };
  return o;
}

uint32_t pcm_rate_of(const LegMediaOptions& o) {
  const media::CodecInfo* info = media::find_codec(o.codec_name, o.clock_rate);
  return info ? info->pcm_rate_hz : 8000;
}

}  // namespace

LegMedia::LegMedia(LegMediaOptions options, LegMediaHandlers handlers)
    : options_(std::move(options)),
      handlers_(std::move(handlers)),
      scratch_(*options_.scratch),
      playout_(playout_options(pcm_rate_of(options_), handlers_)) {}

LegMedia::~LegMedia() {
  unlink();
  close();
}

std::unique_ptr<LegMedia> LegMedia::open(boost::asio::io_context& io, LegMediaOptions options,
                                           LegMediaHandlers handlers, std::error_code& ec) {
  std::unique_ptr<LegMedia> m(new LegMedia(std::move(options), std::move(handlers)));
  const auto& o = m->options_;
  m->encoder_ = media::make_encoder({.name = o.codec_name, .clock_rate = o.clock_rate});
  m->decoder_ = media::make_decoder({.name = o.codec_name, .clock_rate = o.clock_rate});
  if (!m->encoder_ || !m->decoder_) {
    ec = std::make_error_code(std::errc::protocol_not_supported);
    return nullptr;
  }
  const uint32_t pcm_rate = m->encoder_->pcm_rate_hz();
  m->up_ = media::Resampler::create({.in_rate_hz = pcm_rate, .out_rate_hz = o.agent_rate});
  m->down_ = media::Resampler::create({.in_rate_hz = o.agent_rate, .out_rate_hz = pcm_rate});
  if (!m->up_ || !m->down_) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return nullptr;
  }
  m->tone_frame_.set_format({pcm_rate, kTickMs});
  m->update_payload_to_agent();
  if (o.ringback) m->ringback_.emplace(*o.ringback, pcm_rate);
  if (auto clip = o.hold_music ? o.hold_music->at(pcm_rate) : nullptr) m->music_.emplace(std::move(clip), true);

  LegMedia* self = m.get();
  rtp::RtpSessionOptions ro;
  ro.local_ip = o.local_ip;
  ro.ports = o.ports;
  ro.remote = o.remote;
  ro.payload_type = o.payload_type;
  ro.telephone_event_pt = o.telephone_event_pt;
  ro.clock_rate = o.clock_rate;
  ro.random_seed = o.random_seed;
  ro.media_io = o.media_io;
  ro.on_packet = [self](const rtp::RtpPacketView& p) { self->on_rtp(p); };
  ro.on_dtmf = [self](char digit, uint32_t ms) {
    const char digits[1] = {digit};
    if (self->peer_) self->peer_->send_dtmf(std::string_view(digits, 1));  // across the bridge
    if ((!self->peer_ || self->options_.dtmf_while_bridged) && self->handlers_.on_dtmf) self->handlers_.on_dtmf(digit, ms);
  };
  m->rtp_ = rtp::RtpSession::open(io, std::move(ro), ec);
  if (!m->rtp_) return nullptr;
  return m;
}

uint16_t LegMedia::local_port() const { return rtp_ ? rtp_->local_port() : 0; }
void LegMedia::start() { rtp_->start(); }

void LegMedia::close() {
  if (!rtp_) return;
  if (options_.metrics && !closed_) observe_reception(rtp_->stats());
  closed_ = true;
  rtp_->close();
}

// Once per leg, at its end: what the far side's stream looked like (nothing received: nothing to say).
void LegMedia::observe_reception(const rtp::RtpStats& s) {
  const int64_t lost = std::max<int64_t>(0, s.packets_lost);
  const double expected = static_cast<double>(s.packets_received) + static_cast<double>(lost);
  if (s.packets_received == 0 || expected <= 0) return;
  options_.metrics->rtp_loss.observe(static_cast<double>(lost) / expected);
  options_.metrics->rtp_jitter.observe(s.jitter / static_cast<double>(options_.clock_rate));
}

const rtp::RtpStats& LegMedia::rtp_stats() const { return rtp_->stats(); }
void LegMedia::set_remote(const boost::asio::ip::udp::endpoint& remote) { rtp_->set_remote(remote); }

void LegMedia::update_payload_to_agent() {
  const auto& codecs = options_.agent_payload_codecs;
  payload_to_agent_ = handlers_.on_caller_payload &&
                      std::find(codecs.begin(), codecs.end(), options_.codec_name) != codecs.end();
}

void LegMedia::set_ringback(bool on) { ringback_on_ = on && ringback_.has_value(); }

void LegMedia::on_rtp(const rtp::RtpPacketView& packet) {
  // Comfort noise (RFC 3389, pt 13) and codecs we did not negotiate are not audio for the agent.
  if (packet.payload_type != options_.payload_type) return;
  const bool to_agent = tap_ && handlers_.on_caller_audio;
  // The agent's dialect carries this codec: the payload goes as it is (PCMU to Twilio as base64).
  const bool as_payload = to_agent && payload_to_agent_ && !peer_;
  if (as_payload) handlers_.on_caller_payload(packet.payload);
  if (relay_) peer_->relay_in(packet);
  const bool pcm_to_agent = to_agent && !as_payload;
  const bool to_peer = peer_ && !relay_;
  // Decoded only for whoever needs the PCM: the agent, a transcoded bridge, a recording.
  if (!pcm_to_agent && !to_peer && !recorder_) return;
  auto decoded = decoder_->decode(packet.payload, std::span<int16_t>(scratch_.pcm_in));
  if (!decoded || decoded.size == 0) return;
  const std::span<const int16_t> pcm(scratch_.pcm_in.data(), decoded.size);
  if (recorder_) recorder_->incoming(pcm);
  if (to_peer) peer_->pcm_in(pcm);
  if (!pcm_to_agent) return;
  size_t n = up_->process(pcm, std::span<int16_t>(scratch_.pcm_agent));
  if (n > 0) handlers_.on_caller_audio(std::span<const int16_t>(scratch_.pcm_agent.data(), n));
}

void LegMedia::push_agent_audio(std::span<const uint8_t> bytes) {
  // Little-endian PCM16 from the wire, converted in fixed-size chunks into a scratch buffer: an odd
  // byte at the end of one frame is kept and joined with the next frame's first byte.
  size_t i = 0;
  while (i < bytes.size()) {
    size_t n = 0;
    if (has_odd_byte_) {
      scratch_.pcm_agent[n++] = static_cast<int16_t>(odd_byte_ | (bytes[i++] << 8));
      has_odd_byte_ = false;
    }
    while (n < scratch_.pcm_agent.size() && i + 1 < bytes.size()) {
      scratch_.pcm_agent[n++] = static_cast<int16_t>(bytes[i] | (bytes[i + 1] << 8));
      i += 2;
    }
    if (i + 1 == bytes.size()) {
      odd_byte_ = bytes[i++];
      has_odd_byte_ = true;
    }
    push_agent_samples(std::span<const int16_t>(scratch_.pcm_agent.data(), n));
  }
}

bool LegMedia::set_codec(const std::string& name, uint32_t clock_rate, uint8_t payload_type,
                         std::optional<uint8_t> telephone_event_pt) {
  auto encoder = media::make_encoder({.name = name, .clock_rate = clock_rate});
  auto decoder = media::make_decoder({.name = name, .clock_rate = clock_rate});
  // The playout buffer, resamplers and tones run at the PCM rate: only a codec of the same rate fits.
  if (!encoder || !decoder || encoder->pcm_rate_hz() != encoder_->pcm_rate_hz() || clock_rate != options_.clock_rate)
    return false;
  encoder_ = std::move(encoder);
  decoder_ = std::move(decoder);
  if (recorder_) record_decoder_ = media::make_decoder({.name = name, .clock_rate = clock_rate});
  options_.codec_name = name;
  update_payload_to_agent();
  options_.payload_type = payload_type;
  options_.telephone_event_pt = telephone_event_pt;
  rtp_->set_payload_types(payload_type, telephone_event_pt);
  return true;
}

void LegMedia::push_agent_samples(std::span<const int16_t> pcm) {
  // In chunks whose resampled size fits the scratch buffer: the largest up-ratio is x2 (an 8 kHz
  // agent on a 16 kHz G.722 leg).
  constexpr size_t kChunk = kMaxPcm / 2;
  for (size_t i = 0; i < pcm.size(); i += kChunk) {
    auto part = pcm.subspan(i, std::min(kChunk, pcm.size() - i));
    size_t n = down_->process(part, std::span<int16_t>(scratch_.pcm_out));
    playout_.push(std::span<const int16_t>(scratch_.pcm_out.data(), n));
  }
  // Audio beyond the playout capacity is gone: the call counts it and says so once (never silently).
  const uint64_t dropped = playout_.dropped_samples();
  if (dropped != reported_dropped_) {
    reported_dropped_ = dropped;
    if (handlers_.on_playout_overflow) handlers_.on_playout_overflow(dropped);
  }
}

void LegMedia::send_frame(std::span<const int16_t> pcm) {
  if (recorder_) recorder_->outgoing(pcm);
  auto encoded = encoder_->encode(pcm, std::span<uint8_t>(scratch_.payload));
  if (!encoded) return;
  rtp_->send_audio(std::span<const uint8_t>(scratch_.payload.data(), encoded.size), options_.clock_rate * kTickMs / 1000);
}

bool LegMedia::send_dtmf(std::string_view digits) {
  if (!rtp_->has_telephone_event() || digits.size() > kMaxDtmf - dtmf_count_) return false;
  for (char d : digits) dtmf_queue_[(dtmf_head_ + dtmf_count_++) % kMaxDtmf] = d;
  if (relay_started_) {  // the events start after the last relayed packet, on the ticks' clock
    rtp_->skip(relay_step_ ? relay_step_ : options_.clock_rate * kTickMs / 1000);
    relay_started_ = false;
  }
  return true;
}

bool LegMedia::tick_dtmf() {
  const uint32_t tick_ts = options_.clock_rate * kTickMs / 1000;
  if (!dtmf_.active()) {
    if (dtmf_gap_ > 0) {
      --dtmf_gap_;
      rtp_->skip(tick_ts);
      return true;
    }
    if (dtmf_count_ == 0) return false;
    const char digit = dtmf_queue_[dtmf_head_];
    dtmf_head_ = (dtmf_head_ + 1) % kMaxDtmf;
    --dtmf_count_;
    if (!dtmf_.start(digit, kDtmfMs)) return false;  // validated by the protocol decoder; never here
    dtmf_ts_ = rtp_->next_timestamp();
  }
  if (auto packet = dtmf_.next()) {
    rtp_->send_event(packet->payload, packet->marker, dtmf_ts_);
    if (packet->last) dtmf_gap_ = kDtmfGapTicks;
  }
  rtp_->skip(tick_ts);  // the event covers this tick's time on the audio clock
  return true;
}

void LegMedia::bridge_to(MediaSession* peer) {
  unlink();
  // A bridge joins two legs with sockets; the in-memory sessions of unit tests never meet one.
  if (auto* other = dynamic_cast<LegMedia*>(peer); other && other != this) {
    other->unlink();
    link(other);
    other->link(this);
  }
}

void LegMedia::link(LegMedia* peer) {
  peer_ = peer;
  relay_ = !mix_agent_ && !peer->mix_agent_ && options_.clock_rate == peer->options_.clock_rate &&
           media::find_codec(options_.codec_name, options_.clock_rate) ==
               media::find_codec(peer->options_.codec_name, peer->options_.clock_rate);
  from_peer_.reset();
  if (!relay_)
    from_peer_ = media::Resampler::create({.in_rate_hz = peer->encoder_->pcm_rate_hz(), .out_rate_hz = encoder_->pcm_rate_hz()});
  relay_started_ = false;
  ringback_on_ = false;
  hold_.reset();
  // The agent's audio left in the buffer is not for the other party (in a three-way, new agent audio
  // comes after the join).
  playout_.clear();
  if (peer_audio_) peer_audio_->clear();
  peer_audio_primed_ = false;
}

// Switching a running bridge between relaying and mixing re-links both legs (the relay decision is
// taken at the join, from both legs' flags).
void LegMedia::set_mix_agent(bool on) {
  if (on == mix_agent_) return;
  mix_agent_ = on;
  if (on && !peer_audio_) {
    const auto rate = static_cast<int>(encoder_->pcm_rate_hz());
    ai::PlayoutBuffer::Options o;
    o.capacity_samples = ai::PlayoutBuffer::samples_for_ms(rate, 1'000);
    o.initial_samples = ai::PlayoutBuffer::samples_for_ms(rate, 200);
    peer_audio_ = std::make_unique<ai::PlayoutBuffer>(std::move(o));
  }
  if (LegMedia* peer = peer_) {
    unlink();
    link(peer);
    peer->link(this);
  }
}

void LegMedia::unlink() {
  if (!peer_) return;
  LegMedia* peer = peer_;
  peer_ = nullptr;
  // Our own audio resumes after the last relayed packet's time.
  if (relay_started_) rtp_->skip(relay_step_ ? relay_step_ : options_.clock_rate * kTickMs / 1000);
  relay_ = false;
  relay_started_ = false;
  if (peer->peer_ == this) peer->unlink();
}

void LegMedia::relay_in(const rtp::RtpPacketView& packet) {
  // Our own DTMF (the other leg's key presses) owns the stream's time while it plays.
  if (dtmf_busy()) {
    relay_started_ = false;
    return;
  }
  uint32_t advance = 0;
  if (relay_started_) {
    const uint32_t step = packet.timestamp - relay_in_ts_;
    // A source timestamp that jumps back or by more than a second is a new stream (a re-INVITE, a
    // new SSRC): keep our own time going instead of following it.
    advance = step <= options_.clock_rate ? step : relay_step_;
    if (step <= options_.clock_rate && step > 0) relay_step_ = step;
  }
  if (rtp_->relay_audio(packet.payload, advance, packet.marker || !relay_started_)) relay_started_ = true;
  relay_in_ts_ = packet.timestamp;
  if (recorder_) record_relayed(packet);
}

void LegMedia::set_recorder(MediaRecorder* recorder) {
  recorder_ = recorder;
  // Made now, not per packet: a relayed bridge (same codec both ways) may start at any moment.
  record_decoder_.reset();
  if (recorder) record_decoder_ = media::make_decoder({.name = options_.codec_name, .clock_rate = options_.clock_rate});
}

// The relay passes the peer's packets on undecoded (the same codec as ours); a recording needs their
// audio, so they are decoded for it alone, by a decoder of their own.
void LegMedia::record_relayed(const rtp::RtpPacketView& packet) {
  if (!record_decoder_) return;
  auto decoded = record_decoder_->decode(packet.payload, std::span<int16_t>(scratch_.pcm_out));
  if (decoded && decoded.size > 0) recorder_->outgoing(std::span<const int16_t>(scratch_.pcm_out.data(), decoded.size));
}

void LegMedia::pcm_in(std::span<const int16_t> pcm) {
  size_t n = from_peer_->process(pcm, std::span<int16_t>(scratch_.pcm_out));
  const std::span<const int16_t> out(scratch_.pcm_out.data(), n);
  if (!mix_agent_) {
    playout_.push(out);
    return;
  }
  // A three-way keeps the peer's audio to two or three packets: beyond kMaxPeerMs queued (its clock
  // runs faster than ours, or a burst arrived), the backlog goes instead of adding to the delay.
  constexpr int kMaxPeerMs = 120;
  if (peer_audio_->queued_samples() >
      ai::PlayoutBuffer::samples_for_ms(static_cast<int>(encoder_->pcm_rate_hz()), kMaxPeerMs))
    peer_audio_->clear();
  peer_audio_->push(out);
}

void LegMedia::tick_three_way(size_t frame) {
  const std::span<int16_t> mix(scratch_.tick_pcm.data(), frame);
  const bool playing = playout_.pull(mix);
  // The peer's audio plays once two frames are queued (and again after it ran dry): one frame of
  // delay absorbs the jitter between its packets' arrival and our ticks.
  if (!peer_audio_primed_) peer_audio_primed_ = peer_audio_->queued_samples() >= 2 * frame;
  if (peer_audio_primed_) {
    const std::span<int16_t> other(scratch_.pcm_out.data(), frame);
    if (!peer_audio_->pull(other)) peer_audio_primed_ = false;
    for (size_t i = 0; i < frame; ++i)
      mix[i] = static_cast<int16_t>(std::clamp(mix[i] + other[i], -32768, 32767));
  }
  send_frame(mix);
  const bool drained = was_playing_ && !playing;
  was_playing_ = playing;
  if (drained && handlers_.on_playout_drained) handlers_.on_playout_drained();
}

void LegMedia::on_media_tick(uint64_t) {
  if (tick_dtmf()) return;
  if (relay_) {
    // The other leg's packets go out as they arrive. Time only passes here while they do not come
    // (a silent source, DTX): the next relayed packet then starts a talkspurt.
    return;
  }
  if (mix_agent_ && peer_) return tick_three_way(encoder_->pcm_rate_hz() * kTickMs / 1000);
  if (hold_ && !peer_) return tick_hold(*hold_);
  if (ringback_on_ && !peer_) {
    ringback_->read(tone_frame_);
    send_frame(tone_frame_.samples());
    return;
  }
  const size_t frame = encoder_->pcm_rate_hz() * kTickMs / 1000;
  const bool playing = playout_.pull(std::span<int16_t>(scratch_.tick_pcm.data(), frame));
  send_frame(std::span<const int16_t>(scratch_.tick_pcm.data(), frame));
  // From this call's own slot deadline to the moment the frame left: now on the plain path; batched,
  // the frame is still queued, so it is marked and the shard observes it when the batch leaves.
  if (playing && options_.metrics && options_.clock && !rtp_->time_last_sent())
    options_.metrics->ai_to_caller.observe(media::MediaClock::Clock::now() - options_.clock->pass_deadline());
  // After the frame is out: the callback may start work (a REFER, a hang-up) that uses the scratch.
  const bool drained = was_playing_ && !playing;
  was_playing_ = playing;
  if (drained && handlers_.on_playout_drained) handlers_.on_playout_drained();
}

// The playout is not pulled: the agent's audio waits (the call stops queueing more while the caller
// is held, MixPlan::takes_agent_audio) and on_playout_drained cannot fire during a hold.
void LegMedia::tick_hold(HoldAudio audio) {
  if (audio == HoldAudio::kMusic && music_) music_->read(tone_frame_);  // loops: always a full frame
  else if (audio != HoldAudio::kSilence && ringback_) ringback_->read(tone_frame_);
  else tone_frame_.clear();
  send_frame(tone_frame_.samples());
}

uint32_t LegMedia::playout_queued_ms() const {
  const uint64_t rate = pcm_rate_of(options_);  // the playout holds audio at the codec's PCM rate
  return static_cast<uint32_t>((playout_.queued_samples() * 1000 + rate - 1) / rate);
}

}  // namespace warmline::server
