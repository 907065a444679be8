#pragma once
// Per-call mixer with a mix matrix: for each listening port, the set of ports it hears. A port is a
// party (caller, target, AI) or a source (hold music, briefing, tones). Runs once per media-clock tick on
// the call's shard: producers write their frame and commit it, mix() computes every output, consumers
// read them. No allocation, no locks.
//
// Typical warm transfer: caller hears {music}; AI hears {caller} (never the music); during the briefing
// target hears {briefing}; once bridged caller hears {target} and target hears {caller}. A port never
// hears itself (connect refuses it), so no party gets its own echo back.
#include <array>
#include <cstddef>
#include <cstdint>

#include "media/frame.hpp"

namespace warmline::media {

class Mixer {
 public:
  static constexpr size_t kMaxPorts = 8;
  static constexpr int kUnityGain = 1 << 14;  // Q14

  explicit Mixer(FrameFormat format = {});

  FrameFormat format() const { return format_; }

  // Makes `listener` hear (or stop hearing) `speaker`. False for a port out of range or
  // listener == speaker.
  bool connect(size_t listener, size_t speaker, bool hears = true);
  bool hears(size_t listener, size_t speaker) const;
  // Drops every route to and from `port` (a leg hung up or a source finished).
  void disconnect_all(size_t port);
  // Gain applied to `speaker` wherever it is heard; linear, clamped to [0, 4]. 1.0 keeps the fast path.
  bool set_gain(size_t speaker, double gain);

  // This tick's input of `port`: write the samples, then commit(). Ports not committed this tick are
  // silent (a leg in DTX, a source that has ended).
  Frame& input(size_t port) { return inputs_[port < kMaxPorts ? port : 0]; }
  void commit(size_t port);

  // Computes all outputs from the committed inputs and clears the commits for the next tick.
  // A listener hearing exactly one active speaker at unity gain gets that frame bit-exact (fast path);
  // several are summed with saturation.
  void mix();

  const Frame& output(size_t listener) const { return outputs_[listener < kMaxPorts ? listener : 0]; }
  // False when the listener heard nothing this tick (its output is silence): the sender may skip or
  // send comfort noise.
  bool output_active(size_t listener) const {
    return listener < kMaxPorts && ((output_active_mask_ >> listener) & 1U) != 0;
  }

 private:
  void mix_many(size_t listener, uint32_t active);

  FrameFormat format_;
  std::array<uint32_t, kMaxPorts> hears_{};  // bit s set in hears_[l]: l hears s
  std::array<int, kMaxPorts> gain_q14_{};
  uint32_t listening_mask_ = 0;   // ports with at least one route in
  uint32_t committed_mask_ = 0;
  uint32_t output_active_mask_ = 0;
  std::array<Frame, kMaxPorts> inputs_;
  std::array<Frame, kMaxPorts> outputs_;
};

}  // namespace warmline::media
