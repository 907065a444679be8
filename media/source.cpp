#include "media/source.hpp"

#include <sndfile.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "media/resampler.hpp"

namespace warmline::media {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

// Reads the whole file as mono int16 (channels averaged).
bool read_mono(SNDFILE* f, const SF_INFO& info, std::vector<int16_t>& mono) {
  const auto channels = static_cast<size_t>(info.channels);
  std::vector<int16_t> block(4096 * channels);
  mono.reserve(static_cast<size_t>(info.frames));
  for (;;) {
    const sf_count_t got = sf_readf_short(f, block.data(), 4096);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      int32_t sum = 0;
      for (size_t c = 0; c < channels; ++c) sum += block[static_cast<size_t>(i) * channels + c];
      mono.push_back(static_cast<int16_t>(sum / static_cast<int32_t>(channels)));
    }
  }
  return !mono.empty();
}

}  // namespace

ClipLoad load_audio_file(const std::string& path, uint32_t rate_hz) {
  if (!is_supported_rate(rate_hz)) return {nullptr, "unsupported target rate " + std::to_string(rate_hz)};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> f(sf_open(path.c_str(), SFM_READ, &info));
  if (!f) return {nullptr, path + ": " + sf_strerror(nullptr)};
  if (info.channels <= 0 || info.samplerate <= 0) return {nullptr, path + ": no audio"};
  std::vector<int16_t> mono;
  if (!read_mono(f.get(), info, mono)) return {nullptr, path + ": empty or unreadable audio"};
  auto clip = std::make_shared<AudioClip>();
  clip->rate_hz = rate_hz;
  if (static_cast<uint32_t>(info.samplerate) == rate_hz) {
    clip->samples = std::move(mono);
    return {std::move(clip), {}};
  }
  auto r = Resampler::create({.in_rate_hz = static_cast<uint32_t>(info.samplerate), .out_rate_hz = rate_hz,
                              .quality = 10});
  if (!r) return {nullptr, path + ": cannot resample from " + std::to_string(info.samplerate) + " Hz"};
  clip->samples.resize(r->output_size(mono.size()));
  clip->samples.resize(r->process(mono, clip->samples));
  return {std::move(clip), {}};
}

AudioFileInfo probe_audio_file(const std::string& path) {
  AudioFileInfo out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    out.error = "no such file";
    return out;
  }
  if (std::filesystem::is_directory(path, ec)) {
    out.error = "is a directory, not an audio file";
    return out;
  }
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> f(sf_open(path.c_str(), SFM_READ, &info));
  if (!f) {
    std::string why = sf_strerror(nullptr);  // "Format not recognised." and the like
    if (!why.empty() && why.back() == '.') why.pop_back();
    out.error = "not audio that libsndfile can read (" + why + ")";
    return out;
  }
  if (info.channels <= 0 || info.samplerate <= 0 || info.frames <= 0) {
    out.error = "no audio in it";
    return out;
  }
  out.rate_hz = static_cast<uint32_t>(info.samplerate);
  out.channels = static_cast<uint32_t>(info.channels);
  out.frames = static_cast<uint64_t>(info.frames);
  return out;
}

ClipSource::ClipSource(std::shared_ptr<const AudioClip> clip, bool loop) : clip_(std::move(clip)), loop_(loop) {
  finished_ = !clip_ || clip_->samples.empty();
}

bool ClipSource::read(Frame& out) {
  if (finished_ || out.rate_hz() != clip_->rate_hz) {
    out.clear();
    return false;
  }
  const auto& s = clip_->samples;
  auto dst = out.samples();
  size_t filled = 0;
  while (filled < dst.size()) {
    const size_t n = std::min(dst.size() - filled, s.size() - pos_);
    std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos_), n, dst.begin() + static_cast<std::ptrdiff_t>(filled));
    filled += n;
    pos_ += n;
    if (pos_ == s.size()) {
      if (!loop_) {
        std::fill(dst.begin() + static_cast<std::ptrdiff_t>(filled), dst.end(), int16_t{0});
        finished_ = true;
        return true;  // this frame still carries the clip's last samples
      }
      pos_ = 0;
    }
  }
  return true;
}

}  // namespace warmline::media
