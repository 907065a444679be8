#include "server/recording/call_recorder.hpp"

namespace warmline::server {

CallRecorder::CallRecorder(RecordingWriter& writer, unsigned shard, std::string path, uint32_t rate)
    : writer_(writer),
      shard_(shard),
      path_(std::move(path)),
      id_(writer.open(shard, path_, rate)),
      mix_(rate, AgentMix::Layout::kStereo,
           [this](std::span<const int16_t> stereo) { writer_.frame(shard_, id_, stereo); }) {}

CallRecorder::~CallRecorder() { writer_.close(shard_, id_); }

}  // namespace warmline::server
