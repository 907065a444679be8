// The call's recording (docs/recording.md): the caller's leg hands its audio both ways to the call's
// recorder, which stays on that leg — the caller's — through every transfer, so one file holds the
// whole call: left the caller, right what the caller heard (the agent, ringback or hold audio during
// a transfer, then the target).
#include "server/call.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace warmline::server {

RecordingResult Call::start_recording() {
  assert_on_shard();
  if (!ctx_.recordings || !caller_ || state_ == CallState::kEnded) return RecordingResult::kUnavailable;
  if (!recording_path_.empty()) return RecordingResult::kAlready;
  recording_path_ = (std::filesystem::path(ctx_.config.server.recording_dir) / (id_ + ".wav")).string();
  // After a REFER of the caller's side, the party the agent talks to is the recorded one.
  MediaSession& media = caller_replaced_ && target_ ? target_->media() : caller_->media();
  recorder_ = std::make_unique<CallRecorder>(*ctx_.recordings, ctx_.shard.index(), recording_path_, media.pcm_rate_hz());
  media.set_recorder(recorder_.get());
  spdlog::info("call {}: recording to {}", id_, recording_path_);
  return RecordingResult::kStarted;
}

RecordingResult Call::stop_recording() {
  if (!recorder_) return RecordingResult::kNotRecording;
  if (caller_) caller_->media().set_recorder(nullptr);
  if (caller_replaced_ && target_) target_->media().set_recorder(nullptr);
  recorder_.reset();  // the writer closes the file after what was queued
  return RecordingResult::kStopped;
}

}  // namespace warmline::server
