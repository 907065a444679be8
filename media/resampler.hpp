#pragma once
// Stateful mono resampler (SpeexDSP), one per stream: the filter history carries over between frames,
// so consecutive 20 ms frames join without clicks. All state is allocated in create(); process() never
// allocates. Lives on one shard thread (not thread-safe, like every media object).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace warmline::media {

struct ResamplerOptions {
  uint32_t in_rate_hz = 8000;
  uint32_t out_rate_hz = 16000;
  // SpeexDSP quality 0..10. 3 is the VoIP setting (Speex's own default for telephony); 10 is for
  // offline work such as converting a hold-music file once at load.
  int quality = 3;
};

class Resampler {
 public:
  // Any rates from 1 kHz to 192 kHz (the engine uses 8/16/24/48 kHz, files may bring 22.05/44.1 kHz).
  // Returns nullopt for rates outside that range or an invalid quality.
  static std::optional<Resampler> create(ResamplerOptions options);

  // Converts `in` into `out` and returns the number of samples written. Every input sample is consumed:
  // out must hold at least output_size(in.size()) samples, else nothing happens and 0 is returned (a
  // caller bug, not silently truncated). Equal rates copy.
  size_t process(std::span<const int16_t> in, std::span<int16_t> out);

  // Upper bound of the output for n input samples (the exact count for whole 10 ms frames).
  size_t output_size(size_t in_samples) const;
  uint32_t in_rate_hz() const { return options_.in_rate_hz; }
  uint32_t out_rate_hz() const { return options_.out_rate_hz; }
  // Delay the filter adds, in input samples (Speex's input latency).
  int input_latency() const;
  // Forgets the history (after a stream discontinuity such as an SSRC change).
  void reset();

 private:
  struct StateDeleter {
    void operator()(void* state) const;
  };
  explicit Resampler(ResamplerOptions options, void* state) : options_(options), state_(state) {}

  ResamplerOptions options_;
  std::unique_ptr<void, StateDeleter> state_;  // SpeexResamplerState*, null when rates are equal
};

}  // namespace warmline::media
