#include "server/bridge/agent_mix.hpp"

#include <algorithm>

namespace warmline::server {

AgentMix::AgentMix(uint32_t agent_rate, Layout layout, std::function<void(std::span<const int16_t>)> emit)
    : layout_(layout), frame_(agent_rate / 50), emit_(std::move(emit)) {
  for (auto& f : fifo_) f.ring.assign(frame_ * kCapacityFrames, 0);
  a_.assign(frame_, 0);
  b_.assign(frame_, 0);
  out_.assign(layout == Layout::kStereo ? 2 * frame_ : frame_, 0);
}

void AgentMix::Fifo::push(std::span<const int16_t> pcm) {
  const size_t cap = ring.size();
  if (pcm.size() > cap) pcm = pcm.last(cap);
  const size_t over = size + pcm.size() > cap ? size + pcm.size() - cap : 0;  // the oldest go
  head = (head + over) % cap;
  size -= over;
  size_t tail = (head + size) % cap;
  for (int16_t s : pcm) {
    ring[tail] = s;
    tail = tail + 1 == cap ? 0 : tail + 1;
  }
  size += pcm.size();
}

void AgentMix::Fifo::pop(std::span<int16_t> out) {
  const size_t cap = ring.size();
  for (auto& s : out) {
    s = ring[head];
    head = head + 1 == cap ? 0 : head + 1;
  }
  size -= out.size();
}

void AgentMix::push(Side side, std::span<const int16_t> pcm) {
  fifo_[static_cast<size_t>(side)].push(pcm);
  drain();
}

void AgentMix::drain() {
  Fifo& caller = fifo_[0];
  Fifo& target = fifo_[1];
  for (;;) {
    const bool c = caller.size >= frame_, t = target.size >= frame_;
    if (c && t) {
      emit_frame(true, true);
    } else if (c && caller.size >= kMaxLeadFrames * frame_) {
      emit_frame(true, false);
    } else if (t && target.size >= kMaxLeadFrames * frame_) {
      emit_frame(false, true);
    } else {
      return;
    }
  }
}

void AgentMix::emit_frame(bool caller, bool target) {
  if (caller) fifo_[0].pop(a_);
  else std::fill(a_.begin(), a_.end(), int16_t{0});
  if (target) fifo_[1].pop(b_);
  else std::fill(b_.begin(), b_.end(), int16_t{0});
  if (layout_ == Layout::kMono) {
    for (size_t i = 0; i < frame_; ++i) out_[i] = static_cast<int16_t>(std::clamp(a_[i] + b_[i], -32768, 32767));
  } else {
    for (size_t i = 0; i < frame_; ++i) {
      out_[2 * i] = a_[i];
      out_[2 * i + 1] = b_[i];
    }
  }
  emit_(out_);
}

}  // namespace warmline::server
