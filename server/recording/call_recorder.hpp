// One call's recording (docs/recording.md): the caller's leg hands it both directions of its audio
// (MediaRecorder, at the leg's PCM rate) and it joins them frame by frame into stereo — left what the
// caller said, right what the caller heard (the agent, ringback or hold audio while a transfer runs,
// then the target) — and hands each 20 ms frame to the recordings' writer thread.
//
// The two directions arrive at their own moments (the caller's packets as they come, our frames on
// the media clock); the joining is AgentMix's (a side that stays silent, DTX or a relayed bridge
// between packets, does not hold the other back: silence takes its place). Fixed buffers made here:
// nothing is allocated, locked or logged per packet. Thread: the call's shard.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "server/bridge/agent_mix.hpp"
#include "server/leg/leg_media.hpp"
#include "server/recording/recording_writer.hpp"

namespace warmline::server {

class CallRecorder final : public MediaRecorder {
 public:
  // Opens `path` (on the writer thread) at `rate` Hz.
  CallRecorder(RecordingWriter& writer, unsigned shard, std::string path, uint32_t rate);
  ~CallRecorder() override;  // the file ends with what was handed over so far
  CallRecorder(const CallRecorder&) = delete;
  CallRecorder& operator=(const CallRecorder&) = delete;

  const std::string& path() const { return path_; }
  void incoming(std::span<const int16_t> pcm) override { mix_.push(AgentMix::Side::kCaller, pcm); }
  void outgoing(std::span<const int16_t> pcm) override { mix_.push(AgentMix::Side::kTarget, pcm); }

 private:
  RecordingWriter& writer_;
  unsigned shard_;
  std::string path_;
  uint64_t id_;
  AgentMix mix_;
};

}  // namespace warmline::server
