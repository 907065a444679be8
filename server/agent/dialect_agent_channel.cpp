#include "server/agent/dialect_agent_channel.hpp"

#include <spdlog/spdlog.h>

#include <cassert>
#include <cstring>
#include <random>

#include "media/g711.hpp"
#include "server/agent/native_agent_channel.hpp"

namespace warmline::server {
namespace {

// Stream ids shaped as each provider's: Twilio "MZ" + 32 hex digits, Exotel 32 hex digits, the
// others a UUID. Random (not derived from the call id), so one stream's id tells nothing of another's.
std::string make_stream_id(ai::Dialect dialect) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = rng(), lo = rng();
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(hi), static_cast<unsigned long long>(lo));
  const std::string h(hex, 32);
  switch (dialect) {
    case ai::Dialect::kTwilio: return "MZ" + h;
    case ai::Dialect::kExotel: return h;
    default: return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  }
}

}  // namespace

std::optional<ai::Dialect> dialect_of(AgentProtocol protocol) {
  switch (protocol) {
    case AgentProtocol::warmline: return std::nullopt;
    case AgentProtocol::twilio: return ai::Dialect::kTwilio;
    case AgentProtocol::telnyx: return ai::Dialect::kTelnyx;
    case AgentProtocol::plivo: return ai::Dialect::kPlivo;
    case AgentProtocol::exotel: return ai::Dialect::kExotel;
    case AgentProtocol::vonage: return ai::Dialect::kVonage;
  }
  return std::nullopt;
}

std::vector<std::string> agent_payload_codecs(const AgentConfig& agent) {
  switch (agent.protocol) {
    case AgentProtocol::twilio:
    case AgentProtocol::plivo: return {"PCMU"};
    case AgentProtocol::telnyx: return {"PCMU", "PCMA"};
    default: return {};
  }
}

std::unique_ptr<AgentChannel> open_agent_channel(Shard& shard, const AgentConfig& agent, AgentEvents events) {
  if (dialect_of(agent.protocol)) return std::make_unique<DialectAgentChannel>(shard, agent, std::move(events));
  return std::make_unique<NativeAgentChannel>(shard, agent, std::move(events));
}

DialectAgentChannel::DialectAgentChannel(Shard& shard, const AgentConfig& agent, AgentEvents events)
    : shard_(shard), agent_(agent), events_(std::move(events)) {
  std::weak_ptr<bool> alive = alive_;
  ai::AgentCallbacks cb{
      .on_open = [this, alive] {
        if (alive.expired()) return;
        state_ = State::kOpen;
        if (events_.on_open) events_.on_open();
      },
      .on_text = [this, alive](std::string_view text) {
        if (!alive.expired() && codec_) on_frame(codec_->decode_text(text));
      },
      .on_binary = [this, alive](std::span<const uint8_t> data) {
        if (!alive.expired() && codec_) on_frame(codec_->decode_binary(data));
      },
      .on_close = [this, alive](const ai::CloseReason& reason) {
        if (alive.expired()) return;
        state_ = State::kClosed;
        if (events_.on_closed) events_.on_closed(reason);
      },
  };
  cb.on_audio_written = events_.on_audio_written;
  conn_ = std::make_unique<ai::AgentConnection>(shard_.io(), std::move(cb));
}

DialectAgentChannel::~DialectAgentChannel() {
  alive_.reset();
  if (conn_) conn_->close();
}

void DialectAgentChannel::assert_on_shard() const { assert(shard_.on_shard()); }

void DialectAgentChannel::connect(const ai::CallInfo& call) {
  assert_on_shard();
  const ai::Dialect dialect = *dialect_of(agent_.protocol);
  ai::DialectStart start{
      .call = call,
      .stream_id = make_stream_id(dialect),
      .account_id = agent_.account_id,
      .custom_parameters = agent_.parameters,
      .encoding = call.caller_codec == "PCMA" ? ai::WireEncoding::kAlaw : ai::WireEncoding::kMulaw,
  };
  codec_ = ai::make_dialect_codec(dialect, std::move(start));
  wire_ = codec_->audio();
  encoded_.resize(wire_.sample_rate / 1000 * 60 * 2);  // 60 ms: the longest chunk the call hands over
  ai::ConnectOptions opts;
  opts.bearer_token = agent_.token;
  conn_->connect(agent_.url, opts);
  // Queued now, flushed on open: the opening frames precede any audio.
  for (const std::string& frame : codec_->opening()) conn_->send_text(frame);
}

void DialectAgentChannel::send(ai::WireFrame frame, bool audio) {
  assert_on_shard();
  if (frame.empty() || state_ == State::kClosed) return;
  if (frame.binary) {
    conn_->send_binary(std::span(reinterpret_cast<const uint8_t*>(frame.bytes.data()), frame.bytes.size()));
  } else {
    conn_->send_text(frame.bytes, audio);
  }
}

void DialectAgentChannel::send_wire_audio(std::span<const uint8_t> audio) {
  const uint64_t timestamp_ms = samples_sent_ * 1000 / wire_.sample_rate;
  samples_sent_ += wire_.encoding == ai::WireEncoding::kL16 ? audio.size() / 2 : audio.size();
  send(codec_->media(audio, timestamp_ms), /*audio=*/true);
}

bool DialectAgentChannel::takes_payload(std::string_view codec) const {
  if (wire_.sample_rate != 8000 || wire_.encoding == ai::WireEncoding::kL16) return false;
  return codec == (wire_.encoding == ai::WireEncoding::kMulaw ? "PCMU" : "PCMA");
}

void DialectAgentChannel::send_payload(std::span<const uint8_t> payload) {
  if (state_ == State::kOpen && codec_) send_wire_audio(payload);
}

void DialectAgentChannel::send_audio(std::span<const int16_t> pcm) {
  assert_on_shard();
  if (state_ != State::kOpen || !codec_) return;
  // The call hands over one packet's worth (≤ 60 ms); longer spans go in pieces of the buffer's size.
  while (!pcm.empty()) {
    const size_t max_samples = wire_.encoding == ai::WireEncoding::kL16 ? encoded_.size() / 2 : encoded_.size();
    const auto chunk = pcm.first(std::min(pcm.size(), max_samples));
    size_t bytes = 0;
    switch (wire_.encoding) {
      case ai::WireEncoding::kMulaw: bytes = media::g711::encode_ulaw(chunk, encoded_); break;
      case ai::WireEncoding::kAlaw: bytes = media::g711::encode_alaw(chunk, encoded_); break;
      case ai::WireEncoding::kL16:
        for (size_t i = 0; i < chunk.size(); ++i) {
          const auto v = static_cast<uint16_t>(chunk[i]);
          encoded_[2 * i] = static_cast<uint8_t>(v & 0xff);
          encoded_[2 * i + 1] = static_cast<uint8_t>(v >> 8);
        }
        bytes = chunk.size() * 2;
        break;
    }
    send_wire_audio(std::span<const uint8_t>(encoded_.data(), bytes));
    pcm = pcm.subspan(chunk.size());
  }
}

void DialectAgentChannel::on_frame(ai::DialectCommand&& command) {
  if (auto* media = std::get_if<ai::WireMedia>(&command)) {
    if (wire_.encoding == ai::WireEncoding::kL16) {
      if (events_.on_audio) events_.on_audio(media->audio);  // little-endian PCM16, as the call takes it
      return;
    }
    if (decoded_.size() < media->audio.size()) decoded_.resize(media->audio.size());
    const size_t n = wire_.encoding == ai::WireEncoding::kMulaw ? media::g711::decode_ulaw(media->audio, decoded_)
                                                                 : media::g711::decode_alaw(media->audio, decoded_);
    if (events_.on_samples) events_.on_samples(std::span<const int16_t>(decoded_.data(), n));
    return;
  }
  auto& cmd = std::get<ai::Command>(command);
  const bool clear = std::holds_alternative<ai::Clear>(cmd);
  std::weak_ptr<bool> alive = alive_;
  if (events_.on_command) events_.on_command(std::move(cmd));
  // The clear has been carried out (its cleared marks reported): the dialect's acknowledgement.
  if (clear && !alive.expired() && codec_) send(codec_->cleared());
}

void DialectAgentChannel::send_dtmf(char digit, uint32_t duration_ms) {
  if (codec_) send(codec_->dtmf(digit, duration_ms));
}

void DialectAgentChannel::send_mark(std::string_view name, ai::MarkEvent event) {
  if (codec_) send(codec_->mark(name, event));
}

void DialectAgentChannel::send_transfer(const ai::TransferEvent& event) {
  if (codec_) send(codec_->transfer_event(event));
}

void DialectAgentChannel::send_error(std::string_view code, std::string_view message) {
  if (codec_) send(codec_->error(code, message));
}

void DialectAgentChannel::send_stop(std::string_view reason) {
  assert_on_shard();
  if (state_ == State::kOpen && codec_) send(codec_->stop(reason));
}

void DialectAgentChannel::close() {
  assert_on_shard();
  conn_->close();
}

}  // namespace warmline::server
