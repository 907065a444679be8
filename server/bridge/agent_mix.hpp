// What an agent hears of two parties at once (DESIGN.md "Transfers": an introduce three-way, an agent
// listening in after the bridge): the caller's and the target's audio, each decoded for the agent as
// its packets arrive, joined frame by frame — summed into one channel (mono), or side by side in two
// (stereo, interleaved: caller left, target right).
//
// The two legs' packets arrive at their own moments; a frame (20 ms at the agent's rate) leaves once
// both sides have one. A side that stays silent (DTX, on mute, gone) does not hold the other back:
// once the other is kMaxLeadFrames ahead, its frames leave with silence in the quiet side's place.
// Fixed buffers sized at construction: no allocation per packet. Thread: the call's shard.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace warmline::server {

class AgentMix {
 public:
  enum class Side { kCaller = 0, kTarget = 1 };
  enum class Layout { kMono, kStereo };
  static constexpr size_t kMaxLeadFrames = 3;     // 60 ms
  static constexpr size_t kCapacityFrames = 8;    // per side; older audio is dropped beyond it

  // `emit` gets each joined frame: `frame_samples` samples (mono) or twice as many (stereo).
  AgentMix(uint32_t agent_rate, Layout layout, std::function<void(std::span<const int16_t>)> emit);

  Layout layout() const { return layout_; }
  void push(Side side, std::span<const int16_t> pcm);

 private:
  struct Fifo {
    std::vector<int16_t> ring;
    size_t head = 0;
    size_t size = 0;
    void push(std::span<const int16_t> pcm);
    void pop(std::span<int16_t> out);  // out.size() <= size
  };
  void drain();
  void emit_frame(bool caller, bool target);

  Layout layout_;
  size_t frame_;
  std::array<Fifo, 2> fifo_;
  std::vector<int16_t> a_, b_, out_;
  std::function<void(std::span<const int16_t>)> emit_;
};

}  // namespace warmline::server
