// The audio path of one leg (its RTP session and codec) (DESIGN.md "Threading and the packet paths"):
//
//   caller -> AI: every RTP packet is decoded and resampled to the agent's rate as soon as it arrives
//                 and handed to on_caller_audio (no waiting for a tick).
//   AI -> caller: the agent's audio waits in a PlayoutBuffer and leaves as one RTP packet per tick of
//                 the shard's media clock (20 ms), so pacing is exact and clear() drops what is queued.
//                 While a transfer runs, ringback replaces it, or the hold audio (music, ringback or
//                 silence) while the caller is on hold; with nothing to play, encoded silence keeps
//                 the stream (and carriers' RTP timeouts, NAT bindings) alive.
//
// Every buffer is sized at set-up: no allocation, lock or log line per packet or per tick.
// Thread: the call's shard; every method and callback runs there.
#pragma once

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ai_bridge/native_protocol.hpp"
#include "ai_bridge/playout_buffer.hpp"
#include "media/codec.hpp"
#include "media/media_clock.hpp"
#include "media/resampler.hpp"
#include "media/source.hpp"
#include "media/tone.hpp"
#include "rtp/dtmf.hpp"
#include "rtp/port_allocator.hpp"
#include "rtp/session.hpp"
#include "server/leg/hold_music.hpp"
#include "server/metrics.hpp"

namespace warmline::server {

// What a held caller hears during a warm transfer (the request's `hold`).
using HoldAudio = ai::HoldAudio;

// Working buffers for one media step (decode+resample one packet, convert one agent frame, build one
// tick's frame). Every step runs to completion on the shard's thread before another starts, so one
// set per shard serves all of its calls: ~29 KiB per shard instead of per call.
struct MediaScratch {
  static constexpr size_t kMaxPcm = 48000 * 60 / 1000;  // 60 ms at 48 kHz: the longest packet we take
  std::array<int16_t, kMaxPcm> pcm_in{};
  std::array<int16_t, kMaxPcm> pcm_agent{};
  std::array<int16_t, kMaxPcm> pcm_out{};
  std::array<int16_t, kMaxPcm> tick_pcm{};
  std::array<uint8_t, 1500> payload{};
};

struct LegMediaOptions {
  std::string codec_name = "PCMU";
  uint32_t clock_rate = 8000;
  uint8_t payload_type = 0;
  std::optional<uint8_t> telephone_event_pt{};
  std::string local_ip = "127.0.0.1";
  boost::asio::ip::udp::endpoint remote{};
  uint32_t agent_rate = 16000;
  rtp::PortAllocator* ports = nullptr;
  MediaScratch* scratch = nullptr;  // the shard's; required
  uint64_t random_seed = 0;         // for the RTP session's SSRC/sequence/timestamp (the shard's generator)
  std::optional<media::ToneSpec> ringback{};
  // Codecs whose RTP payload the agent takes as it is (a provider dialect that carries that codec:
  // PCMU to Twilio). While the leg's codec is one of them and the leg is not bridged, its packets go
  // to on_caller_payload undecoded instead of to on_caller_audio.
  std::vector<std::string> agent_payload_codecs{};
  // The process's hold music (loaded at start-up, read-only); the leg plays the clip at its PCM rate.
  // Null, or no clip at that rate: a caller held with music hears the ringback instead.
  const HoldMusic* hold_music = nullptr;
  // The shard's clock and metrics (null in unit tests): the agent's frames are timed against the
  // pass deadline, and the leg's RTP loss and jitter are observed when it closes.
  const media::MediaClock* clock = nullptr;
  ShardMetrics* metrics = nullptr;
  // The shard's batched RTP I/O ([media] rtp_io = "batched"); null: plain. A frame sent inside a slot
  // pass then leaves at the pass's flush, and its latency is observed there (ShardRuntime).
  rtp::MediaIo* media_io = nullptr;
  // RFC 4733 digits also go to on_dtmf while the leg is bridged (they always cross the bridge too): a
  // leg whose party may steer the call by key while bridged (a referrer consulting a target, docs/sip.md
  // "Warm transfers a SIP agent asks for"). Off: a bridged leg's digits only cross the bridge.
  bool dtmf_while_bridged = false;
};

struct LegMediaHandlers {
  std::function<void(std::span<const int16_t> pcm)> on_caller_audio{};  // at the agent's rate
  std::function<void(std::span<const uint8_t> payload)> on_caller_payload{};  // see agent_payload_codecs
  std::function<void(char digit, uint32_t duration_ms)> on_dtmf{};
  std::function<void(std::string_view name, ai::MarkEvent event)> on_mark{};
  std::function<void()> on_playout_drained{};  // queued agent audio has just finished playing
  // Agent audio beyond the playout capacity was dropped; `total` counts every sample dropped so far.
  // Called once per push that dropped something (not per packet of the RTP path).
  std::function<void(uint64_t total)> on_playout_overflow{};
};

// Where a recorded leg's audio goes (the call's recorder, server/recording/): both directions at the
// leg's PCM rate, as the leg's audio path meets them — what arrived from the far side (decoded as it
// arrives), and what the leg sends it (each tick's frame: the agent, ringback, hold audio, a bridged
// leg's audio, a three-way's mix; a relayed bridge's packets decoded for this alone). Called on the
// shard's thread, per packet and per tick: an implementation must not allocate, lock or log.
class MediaRecorder {
 public:
  virtual ~MediaRecorder() = default;
  virtual void incoming(std::span<const int16_t> pcm) = 0;
  virtual void outgoing(std::span<const int16_t> pcm) = 0;
};

// What a leg and its call use of a media session. LegMedia is the one with sockets; unit tests of calls
// and transfers give a leg an in-memory one instead (CallContext::open_media).
// Thread: the leg's shard.
class MediaSession : public media::MediaClock::Participant {
 public:
  ~MediaSession() override = default;
  virtual uint16_t local_port() const = 0;
  virtual void start() = 0;
  virtual void close() = 0;
  virtual void push_agent_audio(std::span<const uint8_t> bytes) = 0;
  virtual void push_agent_samples(std::span<const int16_t> pcm) = 0;
  virtual bool mark(std::string_view name) = 0;
  virtual size_t clear() = 0;
  virtual bool playout_empty() const = 0;
  // How long the agent audio queued now takes to play (whole milliseconds, rounded up).
  virtual uint32_t playout_queued_ms() const = 0;
  virtual void set_ringback(bool on) = 0;
  // Puts the caller on hold (warm transfers): each tick sends `audio` instead of the agent's, which
  // stays queued, untouched, until the hold ends (nullopt). Music loops from where this leg's last
  // hold left it; silence is sent as encoded silent frames so the far side's RTP timeout never fires.
  // Hold audio goes to this leg's far side only: what arrives from it still goes to the agent. It
  // takes precedence over set_ringback, and, like it, is not played to a bridged leg.
  virtual void set_hold(std::optional<HoldAudio> audio) = 0;
  virtual bool send_dtmf(std::string_view digits) = 0;
  virtual void set_remote(const boost::asio::ip::udp::endpoint& remote) = 0;
  // Another codec of the same PCM rate (a late offer's answer chose it). False when it cannot.
  virtual bool set_codec(const std::string& name, uint32_t clock_rate, uint8_t payload_type,
                         std::optional<uint8_t> telephone_event_pt) = 0;
  virtual uint64_t agent_samples_dropped() const = 0;
  // The SRTP contexts of the stream (keys an offer/answer agreed on; replaced on each one that carries
  // new keys); null = plain RTP.
  virtual void set_srtp(std::shared_ptr<rtp::SrtpSession> srtp) = 0;
  virtual bool srtp() const = 0;
  // Bridges this leg's media with another leg's (both ways; nullptr ends the bridge, both ways). While
  // bridged, each leg's incoming audio goes to the other leg instead of the agent: relayed packet for
  // packet when both use the same codec and clock rate (no decoding: the common case), else decoded,
  // resampled and played out on the other leg's ticks. DTMF from one leg is sent to the other as
  // RFC 4733 events. The agent's audio and the ringback are not played to a bridged leg.
  virtual void bridge_to(MediaSession* peer) = 0;
  // Whether the leg's incoming audio is decoded and handed to on_caller_audio (for the agent). On by
  // default; while the leg is bridged it is decoded for the agent in addition to crossing the bridge
  // (an agent listening in, a three-way). Off, nothing is decoded for the agent.
  virtual void set_tap(bool on) = 0;
  // A three-way: while bridged, what this leg sends is the agent's queued audio and the other leg's,
  // mixed (the other leg's audio is then always decoded, never relayed). Set on both legs.
  virtual void set_mix_agent(bool on) = 0;
  // Hands this leg's audio both ways to `recorder` (nullptr: no more); see MediaRecorder. Incoming
  // audio is then decoded even when nobody else needs it, and a relayed bridge's packets too: the
  // cost is only paid while recording. The recorder must outlive the setting.
  virtual void set_recorder(MediaRecorder* recorder) = 0;
  // The rate of the leg's PCM (its codec's): the rate a recorder gets its audio at.
  virtual uint32_t pcm_rate_hz() const = 0;
};

using MediaFactory = std::function<std::unique_ptr<MediaSession>(LegMediaOptions, LegMediaHandlers, std::error_code&)>;

class LegMedia final : public MediaSession {
 public:
  // Opens the RTP socket and the codec. nullptr with `ec` set when no port binds or the codec is
  // unknown (the caller answers 500/488).
  static std::unique_ptr<LegMedia> open(boost::asio::io_context& io, LegMediaOptions options,
                                         LegMediaHandlers handlers, std::error_code& ec);
  ~LegMedia() override;

  uint16_t local_port() const override;
  void start() override;
  void close() override;

  // Raw bytes of an agent binary frame: 16-bit little-endian PCM at the agent's rate, any length.
  void push_agent_audio(std::span<const uint8_t> bytes) override;
  // Samples at the agent's rate (also speech synthesised by the gateway itself): resampled to the
  // codec's rate now, so the tick has only to pull and encode.
  void push_agent_samples(std::span<const int16_t> pcm) override;
  bool mark(std::string_view name) override { return playout_.mark(name); }
  size_t clear() override { return playout_.clear(); }
  bool playout_empty() const override { return playout_.empty(); }
  uint32_t playout_queued_ms() const override;
  void set_ringback(bool on) override;
  void set_hold(std::optional<HoldAudio> audio) override { hold_ = audio; }
  std::optional<HoldAudio> hold() const { return hold_; }
  // Queues digits (0-9 * # A-D) to send to the caller as RFC 4733 events, 100 ms each with 60 ms
  // between them, in place of the agent's audio while they play. False when the caller did not
  // negotiate telephone-event or the queue (kMaxDtmf) is full; nothing is queued then.
  bool send_dtmf(std::string_view digits) override;
  void set_remote(const boost::asio::ip::udp::endpoint& remote) override;
  bool set_codec(const std::string& name, uint32_t clock_rate, uint8_t payload_type,
                 std::optional<uint8_t> telephone_event_pt) override;
  void set_srtp(std::shared_ptr<rtp::SrtpSession> srtp) override { rtp_->set_srtp(std::move(srtp)); }
  bool srtp() const override { return rtp_->srtp(); }

  void bridge_to(MediaSession* peer) override;
  void set_tap(bool on) override { tap_ = on; }
  void set_mix_agent(bool on) override;
  void set_recorder(MediaRecorder* recorder) override;
  uint32_t pcm_rate_hz() const override { return encoder_->pcm_rate_hz(); }
  bool bridged() const { return peer_ != nullptr; }
  bool relaying() const { return relay_; }  // bridged with the same codec: no decoding

  void on_media_tick(uint64_t tick) override;
  const rtp::RtpStats& rtp_stats() const;
  uint64_t agent_samples_dropped() const override { return playout_.dropped_samples(); }

 private:
  LegMedia(LegMediaOptions options, LegMediaHandlers handlers);
  void on_rtp(const rtp::RtpPacketView& packet);
  void send_frame(std::span<const int16_t> pcm);  // at the codec's PCM rate
  void observe_reception(const rtp::RtpStats& stats);
  void tick_hold(HoldAudio audio);
  bool tick_dtmf();  // true when this tick went to DTMF (an event packet or the pause after one)
  bool dtmf_busy() const { return dtmf_.active() || dtmf_gap_ > 0 || dtmf_count_ > 0; }
  void link(LegMedia* peer);
  void unlink();
  void relay_in(const rtp::RtpPacketView& packet);  // the peer's packet, in our codec
  void pcm_in(std::span<const int16_t> pcm);         // the peer's decoded audio, at its PCM rate
  void tick_three_way(size_t frame);                 // the agent's audio and the peer's, mixed
  void update_payload_to_agent();
  void record_relayed(const rtp::RtpPacketView& packet);  // the peer's relayed packet, decoded for recorder_

  static constexpr size_t kMaxPcm = MediaScratch::kMaxPcm;

  LegMediaOptions options_;
  LegMediaHandlers handlers_;
  MediaScratch& scratch_;
  std::shared_ptr<rtp::RtpSession> rtp_;
  std::unique_ptr<media::Encoder> encoder_;
  std::unique_ptr<media::Decoder> decoder_;
  std::optional<media::Resampler> up_;    // codec PCM rate -> agent rate
  std::optional<media::Resampler> down_;  // agent rate -> codec PCM rate, on arrival of agent audio
  ai::PlayoutBuffer playout_;
  std::optional<media::ToneSource> ringback_;
  bool ringback_on_ = false;
  std::optional<media::ClipSource> music_;  // over the shared clip at our PCM rate; null without one
  std::optional<HoldAudio> hold_;
  bool was_playing_ = false;
  uint64_t reported_dropped_ = 0;
  uint8_t odd_byte_ = 0;
  bool has_odd_byte_ = false;
  media::Frame tone_frame_;
  static constexpr size_t kMaxDtmf = 64;
  static constexpr uint32_t kDtmfMs = 100;
  static constexpr int kDtmfGapTicks = 3;  // 60 ms of silence between key presses
  rtp::DtmfSender dtmf_;
  std::array<char, kMaxDtmf> dtmf_queue_{};
  size_t dtmf_head_ = 0;
  size_t dtmf_count_ = 0;
  uint32_t dtmf_ts_ = 0;
  int dtmf_gap_ = 0;

  // The bridge (both legs point at each other while it lasts).
  LegMedia* peer_ = nullptr;
  bool relay_ = false;
  std::optional<media::Resampler> from_peer_;  // transcoding: the peer's PCM rate -> ours
  bool closed_ = false;
  bool relay_started_ = false;  // a relayed packet has gone out since the last audio of our own
  uint32_t relay_in_ts_ = 0;    // the source timestamp of the last packet relayed
  uint32_t relay_step_ = 0;     // its step from the one before (the packet duration, for the end)
  bool tap_ = true;             // incoming audio is decoded for the agent (on_caller_audio)
  bool payload_to_agent_ = false;  // the codec is one of agent_payload_codecs (and a handler takes it)
  bool mix_agent_ = false;      // a three-way: the agent's audio and the peer's are mixed
  // The peer's audio during a three-way (the playout_ holds the agent's then), at our PCM rate. Made
  // when the first three-way starts; refilled after an underrun before it plays again (jitter).
  std::unique_ptr<ai::PlayoutBuffer> peer_audio_;
  bool peer_audio_primed_ = false;

  MediaRecorder* recorder_ = nullptr;
  // Decodes the relayed peer's packets for recorder_ (its own state: our decoder_ has the caller's).
  std::unique_ptr<media::Decoder> record_decoder_;
};

}  // namespace warmline::server
