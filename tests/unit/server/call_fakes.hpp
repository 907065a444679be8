// In-memory stand-ins for what a call reaches outside the SIP stack, for the call, leg, router and
// transfer tests (call_fixture.hpp): a media session (CallContext::open_media), an agent channel
// (CallContext::open_agent), text-to-speech and the call record sink (CallContext::records).
//
// Each fake writes what the call did into a *log* that the test keeps (a shared_ptr), so the test can
// still read it after the call has ended and destroyed the fake; the log also lets the test drive the
// fake (open the agent, send it commands, play the queued audio out) while it exists.
// Thread: the test's, which the fixture made the shard's (Shard::adopt_current_thread).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "server/agent/agent_channel.hpp"
#include "server/cdr/record_sink.hpp"
#include "server/leg/leg_media.hpp"
#include "server/shard.hpp"
#include "media/source.hpp"
#include "server/speech.hpp"

namespace warmline::server::fake {

// ---------------------------------------------------------------------------------------------------
// Media

class FakeMediaSession;

struct MediaLog {
  LegMediaOptions options;       // as the leg opened it (codec, payload types, remote)
  uint16_t port = 0;
  bool started = false;
  bool closed = false;
  bool ringback = false;         // what the caller hears now: ringback (true) or the agent
  std::optional<HoldAudio> hold;  // on hold (warm transfer): music, ringback or silence; nullopt: not held
  std::vector<boost::asio::ip::udp::endpoint> remotes;  // every set_remote, in order
  std::vector<std::string> codec_switches;              // every accepted set_codec: "PCMA/8000 pt 8"
  std::vector<bool> srtp_sets;                          // every set_srtp: whether it carried contexts
  size_t queued_samples = 0;     // agent audio waiting to be played to the caller
  size_t clears = 0;
  std::string dtmf_sent;         // digits the agent had sent to the caller (RFC 4733)
  MediaSession* bridged_to = nullptr;  // the other leg's media while bridged
  bool tap = true;                     // incoming audio goes to the agent (on_caller_audio)
  bool mix_agent = false;              // a three-way: the agent's audio mixed with the other leg's
  MediaRecorder* recorder = nullptr;   // set_recorder
  FakeMediaSession* session = nullptr;  // null once the leg destroyed it

  // The queued agent audio has played: the call hears on_playout_drained, as after a media tick.
  void play_out();
  // The caller pressed a key, sent as RFC 4733 telephone-event.
  void caller_dtmf(char digit, uint32_t duration_ms);
  void incoming_audio(std::span<const int16_t> pcm);
};

class FakeMediaSession final : public MediaSession {
 public:
  FakeMediaSession(std::shared_ptr<MediaLog> log, LegMediaHandlers handlers) : log_(std::move(log)), handlers_(std::move(handlers)) {
    log_->session = this;
  }
  ~FakeMediaSession() override { log_->session = nullptr; }

  uint16_t local_port() const override { return log_->port; }
  void start() override { log_->started = true; }
  void close() override { log_->closed = true; }
  void push_agent_audio(std::span<const uint8_t> bytes) override { log_->queued_samples += bytes.size() / 2; }
  void push_agent_samples(std::span<const int16_t> pcm) override { log_->queued_samples += pcm.size(); }
  bool mark(std::string_view) override { return true; }
  size_t clear() override {
    ++log_->clears;
    return std::exchange(log_->queued_samples, 0);
  }
  bool playout_empty() const override { return log_->queued_samples == 0; }
  uint32_t playout_queued_ms() const override {
    const uint32_t rate = log_->options.clock_rate ? log_->options.clock_rate : 8000;
    return static_cast<uint32_t>((log_->queued_samples * 1000 + rate - 1) / rate);
  }
  void set_ringback(bool on) override { log_->ringback = on; }
  void set_hold(std::optional<HoldAudio> audio) override { log_->hold = audio; }
  bool send_dtmf(std::string_view digits) override {
    if (!log_->options.telephone_event_pt) return false;
    log_->dtmf_sent += digits;
    return true;
  }
  void set_remote(const boost::asio::ip::udp::endpoint& remote) override { log_->remotes.push_back(remote); }
  void set_srtp(std::shared_ptr<rtp::SrtpSession> srtp) override { log_->srtp_sets.push_back(srtp != nullptr); }
  bool srtp() const override { return !log_->srtp_sets.empty() && log_->srtp_sets.back(); }
  bool set_codec(const std::string& name, uint32_t clock_rate, uint8_t payload_type,
                 std::optional<uint8_t> telephone_event_pt) override {
    // Like LegMedia: only a codec of the same clock rate fits the running session.
    if (clock_rate != log_->options.clock_rate) return false;
    log_->options.codec_name = name;
    log_->options.payload_type = payload_type;
    log_->options.telephone_event_pt = telephone_event_pt;
    log_->codec_switches.push_back(name + "/" + std::to_string(clock_rate) + " pt " + std::to_string(payload_type));
    return true;
  }
  uint64_t agent_samples_dropped() const override { return 0; }
  void bridge_to(MediaSession* peer) override { log_->bridged_to = peer; }
  void set_tap(bool on) override { log_->tap = on; }
  void set_mix_agent(bool on) override { log_->mix_agent = on; }
  void set_recorder(MediaRecorder* recorder) override { log_->recorder = recorder; }
  uint32_t pcm_rate_hz() const override { return 8000; }
  void on_media_tick(uint64_t) override {}

  LegMediaHandlers& handlers() { return handlers_; }

 private:
  std::shared_ptr<MediaLog> log_;
  LegMediaHandlers handlers_;
};

inline void MediaLog::play_out() {
  ASSERT_NE(session, nullptr) << "the media session is gone";
  if (queued_samples == 0) return;
  queued_samples = 0;
  if (session->handlers().on_playout_drained) session->handlers().on_playout_drained();
}

// Audio arriving on the leg (at the agent's rate): handed on as LegMedia does, only while tapped.
inline void MediaLog::incoming_audio(std::span<const int16_t> pcm) {
  ASSERT_NE(session, nullptr) << "the media session is gone";
  if (tap && session->handlers().on_caller_audio) session->handlers().on_caller_audio(pcm);
}

inline void MediaLog::caller_dtmf(char digit, uint32_t duration_ms) {
  ASSERT_NE(session, nullptr) << "the media session is gone";
  if (session->handlers().on_dtmf) session->handlers().on_dtmf(digit, duration_ms);
}

// ---------------------------------------------------------------------------------------------------
// Agent

// A TransferEvent with its strings owned (the real one holds views into the call's state).
struct TransferEventCopy {
  std::string id;
  ai::TransferState state = ai::TransferState::kDialing;
  std::string target;
  ai::TransferResult result = ai::TransferResult::kFailed;
  int sip_status = 0;
  std::string reason;
};

class FakeAgentChannel;

struct AgentLog {
  ai::CallInfo call;                       // what connect() carried (the call's API id among it)
  AgentChannel::State state = AgentChannel::State::kConnecting;
  // Every frame the call sent, in order, as one line: "dtmf 5 160", "transfer t1 dialing",
  // "transfer t1 ended busy 486", "stop caller_hangup", "error not_supported", "mark m1 played".
  std::vector<std::string> frames;
  std::vector<TransferEventCopy> transfers;
  size_t audio_frames = 0;
  std::vector<int16_t> last_audio;         // the samples of the last audio frame
  bool close_requested = false;
  int sent_while_closed = 0;               // dropped like the native channel drops them, but counted
  FakeAgentChannel* channel = nullptr;     // null once the call destroyed it

  // The WebSocket opened (the call answers).
  void open();
  // The agent sent a command / audio (16-bit LE PCM bytes).
  void command(ai::Command command);
  void audio(size_t samples);
  // The agent's socket broke or the agent closed it (not the call): on_closed with kRemote.
  void drop();

  std::optional<std::string> stop_reason() const;
  const TransferEventCopy* last_transfer() const { return transfers.empty() ? nullptr : &transfers.back(); }
  std::vector<TransferEventCopy> ended_transfers() const;
  // Index in `frames` of the first frame starting with `prefix`, or frames.size().
  size_t frame_index(std::string_view prefix) const;
};

class FakeAgentChannel final : public AgentChannel {
 public:
  FakeAgentChannel(Shard& shard, std::shared_ptr<AgentLog> log, AgentEvents events)
      : shard_(shard), log_(std::move(log)), events_(std::move(events)) {
    log_->channel = this;
  }
  ~FakeAgentChannel() override {
    alive_.reset();
    log_->channel = nullptr;
  }

  void connect(const ai::CallInfo& call) override { log_->call = call; }
  State state() const override { return log_->state; }
  void send_audio(std::span<const int16_t> pcm) override {
    if (log_->state != State::kOpen) return;
    ++log_->audio_frames;
    log_->last_audio.assign(pcm.begin(), pcm.end());
  }
  void send_dtmf(char digit, uint32_t duration_ms) override {
    frame("dtmf " + std::string(1, digit) + " " + std::to_string(duration_ms));
  }
  void send_mark(std::string_view name, ai::MarkEvent event) override {
    frame("mark " + std::string(name) + " " + std::string(ai::to_string(event)));
  }
  void send_transfer(const ai::TransferEvent& e) override {
    std::string line = "transfer " + std::string(e.id) + " " + std::string(ai::to_string(e.state));
    if (e.state == ai::TransferState::kEnded)
      line += " " + std::string(ai::to_string(e.result)) + " " + std::to_string(e.sip_status);
    if (e.channels != 0) line += " " + std::to_string(e.channels);
    if (!e.strategy.empty()) line += " " + std::string(e.strategy);
    if (!frame(line)) return;
    log_->transfers.push_back({std::string(e.id), e.state, std::string(e.target), e.result, e.sip_status,
                               std::string(e.reason)});
  }
  void send_error(std::string_view code, std::string_view) override { frame("error " + std::string(code)); }
  void send_stop(std::string_view reason) override { frame("stop " + std::string(reason)); }
  // Like the WebSocket: the close completes later (after the queued stop), on the shard.
  void close() override {
    log_->close_requested = true;
    std::weak_ptr<bool> alive = alive_;
    shard_.post([this, alive] {
      if (alive.expired() || log_->state == State::kClosed) return;
      log_->state = State::kClosed;
      if (events_.on_closed) events_.on_closed(ai::CloseReason{ai::CloseReason::Kind::kLocal, 1000, "closed"});
    });
  }

  AgentEvents& events() { return events_; }

 private:
  bool frame(std::string line) {
    if (log_->state == State::kClosed) {
      ++log_->sent_while_closed;
      return false;
    }
    log_->frames.push_back(std::move(line));
    return true;
  }

  Shard& shard_;
  std::shared_ptr<AgentLog> log_;
  AgentEvents events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

inline void AgentLog::open() {
  ASSERT_NE(channel, nullptr) << "the agent channel is gone";
  state = AgentChannel::State::kOpen;
  if (channel->events().on_open) channel->events().on_open();
}

inline void AgentLog::command(ai::Command cmd) {
  ASSERT_NE(channel, nullptr) << "the agent channel is gone";
  if (channel->events().on_command) channel->events().on_command(std::move(cmd));
}

inline void AgentLog::audio(size_t samples) {
  ASSERT_NE(channel, nullptr) << "the agent channel is gone";
  std::vector<uint8_t> bytes(samples * 2, 0);
  if (channel->events().on_audio) channel->events().on_audio(bytes);
}

inline void AgentLog::drop() {
  ASSERT_NE(channel, nullptr) << "the agent channel is gone";
  state = AgentChannel::State::kClosed;
  if (channel->events().on_closed)
    channel->events().on_closed(ai::CloseReason{ai::CloseReason::Kind::kRemote, 1011, "agent went away"});
}

inline std::optional<std::string> AgentLog::stop_reason() const {
  for (const auto& f : frames)
    if (f.starts_with("stop ")) return f.substr(5);
  return std::nullopt;
}

inline std::vector<TransferEventCopy> AgentLog::ended_transfers() const {
  std::vector<TransferEventCopy> out;
  for (const auto& t : transfers)
    if (t.state == ai::TransferState::kEnded) out.push_back(t);
  return out;
}

inline size_t AgentLog::frame_index(std::string_view prefix) const {
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i].starts_with(prefix)) return i;
  return frames.size();
}

// ---------------------------------------------------------------------------------------------------
// Text-to-speech

// Records what the call asked to say; the test finishes a request when it wants the audio to arrive.
class FakeSpeech final : public SpeechService {
 public:
  struct Request {
    std::string text;
    uint32_t rate_hz = 0;
    std::function<void(std::function<void()>)> post_back;
    Done done;
  };

  void say(std::string text, uint32_t rate_hz, std::function<void(std::function<void()>)> post_back,
           Done done) override {
    requests.push_back({std::move(text), rate_hz, std::move(post_back), std::move(done)});
  }

  // The synthesis of request `i` finished with `samples` of audio (0: it failed); delivered by post.
  void finish(size_t i, size_t samples) {
    ASSERT_LT(i, requests.size());
    auto clip = samples ? std::make_shared<media::AudioClip>(media::AudioClip{requests[i].rate_hz,
                                                                              std::vector<int16_t>(samples, 100)})
                        : nullptr;
    Done done = requests[i].done;
    requests[i].post_back([done, clip] { done(clip); });
  }

  std::vector<Request> requests;
};

// ---------------------------------------------------------------------------------------------------
// Call records

// Keeps every record the calls hand over (CallContext::records), in order, for the test to read.
class FakeRecordSink final : public RecordSink {
 public:
  void submit(CallRecord&& record) override { records.push_back(std::move(record)); }
  std::vector<CallRecord> records;
};

}  // namespace warmline::server::fake
