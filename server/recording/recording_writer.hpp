// The recordings' writer (docs/recording.md; DESIGN.md "Threading": written off the shard): one
// thread of its own turns the stereo frames the shards' calls hand it into WAV files (libsndfile,
// PCM16, two channels, the call's mixing rate).
//
// The hand-off never blocks a shard and never allocates, locks or logs per frame: each shard has its
// own single-producer single-consumer ring of fixed-size blocks (one block = one 20 ms stereo frame),
// made when the shard opens its first recording. A frame that finds its shard's ring full is dropped
// and counted (warmline_recording_dropped_frames_total). Opening and closing a file (once per call)
// go through a mutex-guarded list instead, which the writer takes in one step; a close is applied
// only after every frame queued before it has been written.
//
// A file that cannot be created or written is logged once and counted
// (warmline_recording_failures_total); the call goes on. stop() (and the destructor) writes what is
// queued, closes every file and ends the thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace warmline::server {

// Written by the shards and the writer thread, read by GET /metrics.
struct RecordingMetrics {
  std::atomic<int64_t> active{0};            // recordings open (started, not yet closed)
  std::atomic<uint64_t> dropped_frames{0};   // 20 ms frames lost: the shard's ring was full
  std::atomic<uint64_t> failures{0};         // files that could not be created or written
};

// "" when `dir` can hold recordings: an existing writable folder, or a path whose nearest existing
// parent is a writable folder (warmline creates the rest at start). Else what is wrong.
std::string check_recording_dir(const std::string& dir);

class RecordingWriter {
 public:
  static constexpr size_t kMaxFrameSamples = 960;  // per channel: 20 ms at 48 kHz (Opus)
  static constexpr size_t kRingFrames = 1024;      // per shard: ~20 s of one call's audio

  // Starts the thread; `shards` rings (made on first use). `metrics` must outlive the writer.
  RecordingWriter(unsigned shards, RecordingMetrics& metrics);
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // Shard `shard`'s thread. A new recording into `path` at `rate` Hz: the id for frame() and close().
  uint64_t open(unsigned shard, std::string path, uint32_t rate);
  // Shard `shard`'s thread: one interleaved stereo frame (left, right, ...; at most kMaxFrameSamples
  // per channel). False when it was dropped (the ring is full; counted).
  bool frame(unsigned shard, uint64_t id, std::span<const int16_t> stereo);
  // Shard `shard`'s thread: the file ends after the frames queued so far.
  void close(unsigned shard, uint64_t id);
  // Writes what is queued, closes every file, joins the thread. Idempotent.
  void stop();

 private:
  struct Block {
    uint64_t id = 0;
    uint32_t frames = 0;  // sample frames (per channel)
    std::array<int16_t, 2 * kMaxFrameSamples> pcm{};
  };
  struct Ring {
    std::atomic<Block*> blocks{nullptr};  // kRingFrames of them, made by the shard on its first open()
    std::unique_ptr<Block[]> owned;       // the shard's (set with `blocks`)
    alignas(64) std::atomic<size_t> head{0};  // next block the writer reads
    alignas(64) std::atomic<size_t> tail{0};  // next block the shard writes
  };
  struct Control {
    bool open = true;  // else a close
    uint64_t id = 0;
    std::string path;
    uint32_t rate = 0;
  };
  struct File;

  void run();
  void apply_opens(std::vector<Control>& controls);
  void take_opens();  // opens posted since the last swap (a frame came for a file not yet open)
  bool drain();       // writes every queued frame; false when there was none
  void write(const Block& block);
  void close_file(uint64_t id);

  RecordingMetrics& metrics_;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Control> controls_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::unordered_map<uint64_t, std::unique_ptr<File>> files_;  // the writer thread's
  std::thread thread_;
};

}  // namespace warmline::server
