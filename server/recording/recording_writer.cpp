#include "server/recording/recording_writer.hpp"

#include <fmt/format.h>
#include <sndfile.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace warmline::server {

namespace {

// How often the writer looks at the rings when nothing wakes it: a frame waits at most this long,
// and a ring of kRingFrames holds this many periods' frames of ~200 recorded calls on one shard.
constexpr auto kPoll = std::chrono::milliseconds(5);

}  // namespace

std::string check_recording_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) return "must not be empty";
  std::error_code ec;
  fs::path p(dir);
  // The nearest part of the path that exists must be a folder we may write in: the rest is created.
  while (!fs::exists(p, ec)) {
    if (!p.has_parent_path() || p.parent_path() == p) return fmt::format("'{}': no part of it exists", dir);
    p = p.parent_path();
  }
  if (!fs::is_directory(p, ec)) return fmt::format("'{}' is not a folder", p.string());
  if (::access(p.c_str(), W_OK | X_OK) != 0)
    return fmt::format("cannot write in '{}': {}", p.string(), std::strerror(errno));
  return {};
}

struct RecordingWriter::File {
  SNDFILE* sf = nullptr;
  std::string path;
  bool failed = false;  // a write failed: logged and counted once, later frames are dropped
  ~File() {
    if (sf) sf_close(sf);
  }
};

RecordingWriter::RecordingWriter(unsigned shards, RecordingMetrics& metrics) : metrics_(metrics) {
  for (unsigned i = 0; i < std::max(1u, shards); ++i) rings_.push_back(std::make_unique<Ring>());
  thread_ = std::thread([this] { run(); });
}

RecordingWriter::~RecordingWriter() { stop(); }

uint64_t RecordingWriter::open(unsigned shard, std::string path, uint32_t rate) {
  Ring& ring = *rings_.at(shard);
  if (!ring.owned) {  // once per shard, on its thread: the writer sees it through `blocks`
    ring.owned.reset(new Block[kRingFrames]);
    ring.blocks.store(ring.owned.get(), std::memory_order_release);
  }
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  metrics_.active.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    controls_.push_back(Control{true, id, std::move(path), rate});
  }
  wake_.notify_one();
  return id;
}

bool RecordingWriter::frame(unsigned shard, uint64_t id, std::span<const int16_t> stereo) {
  Ring& ring = *rings_[shard];
  const size_t tail = ring.tail.load(std::memory_order_relaxed);
  if (tail - ring.head.load(std::memory_order_acquire) == kRingFrames || !ring.owned) {
    metrics_.dropped_frames.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Block& b = ring.owned[tail % kRingFrames];
  const size_t n = std::min(stereo.size(), b.pcm.size()) & ~size_t{1};
  b.id = id;
  b.frames = static_cast<uint32_t>(n / 2);
  std::copy_n(stereo.begin(), n, b.pcm.begin());
  ring.tail.store(tail + 1, std::memory_order_release);
  return true;
}

void RecordingWriter::close(unsigned, uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    controls_.push_back(Control{false, id, {}, 0});
  }
  wake_.notify_one();
}

void RecordingWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void RecordingWriter::run() {
  for (;;) {
    std::vector<Control> controls;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kPoll, [this] { return stopping_ || !controls_.empty(); });
      controls.swap(controls_);
      stopping = stopping_;
    }
    // Opens first, then every frame queued so far (each one was queued after its file's open), then
    // the closes: a close was posted after its call's last frame, so that frame is in the rings now.
    apply_opens(controls);
    while (drain()) {
    }
    for (const Control& c : controls)
      if (!c.open) close_file(c.id);
    if (stopping) {
      std::lock_guard lock(mutex_);
      if (controls_.empty()) break;  // else one more round for what came meanwhile
    }
  }
  metrics_.active.fetch_sub(static_cast<int64_t>(files_.size()), std::memory_order_relaxed);
  files_.clear();  // a call still running at exit: its file ends here
}

void RecordingWriter::apply_opens(std::vector<Control>& controls) {
  for (Control& c : controls) {
    if (!c.open) continue;
    auto file = std::make_unique<File>();
    file->path = std::move(c.path);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file->path).parent_path(), ec);
    SF_INFO info{};
    info.samplerate = static_cast<int>(c.rate);
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    file->sf = sf_open(file->path.c_str(), SFM_WRITE, &info);
    if (!file->sf) {
      spdlog::error("recording: cannot create {}: {}", file->path, sf_strerror(nullptr));
      metrics_.failures.fetch_add(1, std::memory_order_relaxed);
      file->failed = true;
    } else {
      // The header follows each write, so a file is a valid WAV up to its last frame even if the
      // process dies mid-call.
      sf_command(file->sf, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
      spdlog::debug("recording: {} ({} Hz, stereo)", file->path, c.rate);
    }
    files_[c.id] = std::move(file);
  }
}

void RecordingWriter::take_opens() {
  std::vector<Control> opens;
  {
    std::lock_guard lock(mutex_);
    auto split = std::stable_partition(controls_.begin(), controls_.end(), [](const Control& c) { return c.open; });
    opens.assign(std::make_move_iterator(controls_.begin()), std::make_move_iterator(split));
    controls_.erase(controls_.begin(), split);
  }
  apply_opens(opens);
}

bool RecordingWriter::drain() {
  bool any = false;
  for (auto& ring : rings_) {
    Block* blocks = ring->blocks.load(std::memory_order_acquire);
    if (!blocks) continue;
    size_t head = ring->head.load(std::memory_order_relaxed);
    const size_t tail = ring->tail.load(std::memory_order_acquire);
    for (; head != tail; ++head) {
      write(blocks[head % kRingFrames]);
      ring->head.store(head + 1, std::memory_order_release);
      any = true;
    }
  }
  return any;
}

void RecordingWriter::write(const Block& block) {
  auto it = files_.find(block.id);
  if (it == files_.end()) {
    take_opens();  // its open was posted after this round's swap
    it = files_.find(block.id);
    if (it == files_.end()) return;  // closed already (never: a close follows the last frame)
  }
  File& f = *it->second;
  if (f.failed) return;
  if (sf_writef_short(f.sf, block.pcm.data(), block.frames) != static_cast<sf_count_t>(block.frames)) {
    spdlog::error("recording: cannot write {}: {}", f.path, sf_strerror(f.sf));
    metrics_.failures.fetch_add(1, std::memory_order_relaxed);
    f.failed = true;
  }
}

void RecordingWriter::close_file(uint64_t id) {
  auto it = files_.find(id);
  if (it == files_.end()) return;
  files_.erase(it);  // sf_close writes the final header
  metrics_.active.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace warmline::server
