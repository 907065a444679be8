#include "media/source.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "media/codec.hpp"
#include "media/prompts.hpp"
#include "signal_util.hpp"

namespace warmline::media {
namespace {

const std::string kAudioDir = std::string(WARMLINE_SOURCE_DIR) + "/conf/audio/";

// The shipped hold music loads at every engine rate, is long enough to loop unobtrusively, audible
// and not clipped.
TEST(ClipLoad, ShippedHoldMusicLoadsAtEveryRate) {
  for (uint32_t rate : {8000U, 16000U, 48000U}) {
    const auto r = load_audio_file(kAudioDir + std::string(kHoldMusicFile), rate);
    ASSERT_TRUE(r.clip) << r.error;
    EXPECT_EQ(r.clip->rate_hz, rate);
    EXPECT_NEAR(static_cast<double>(r.clip->samples.size()) / rate, 16.0, 0.01);
    EXPECT_GT(test::rms(r.clip->samples), 1000.0);
    const auto peak = *std::max_element(r.clip->samples.begin(), r.clip->samples.end());
    EXPECT_LT(peak, 32000);
  }
}

TEST(ClipLoad, ShippedPromptsAreSpeech) {
  for (const auto& p : kPrompts) {
    const auto r = load_audio_file(kAudioDir + std::string(p.file), 8000);
    ASSERT_TRUE(r.clip) << r.error;
    const double seconds = static_cast<double>(r.clip->samples.size()) / 8000.0;
    EXPECT_GT(seconds, 1.0) << p.file;
    EXPECT_LT(seconds, 8.0) << p.file;
    EXPECT_GT(test::rms(r.clip->samples), 300.0) << p.file;
  }
}

// A 44.1 kHz stereo file: mixed to mono and resampled once at load; a 1 kHz tone stays 1 kHz.
TEST(ClipLoad, ResamplesAndMixesDownAnyFile) {
  const auto path = std::filesystem::temp_directory_path() / ("warmline_clip_" + std::to_string(::getpid()) + ".wav");
  SF_INFO info{};
  info.samplerate = 44100;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  const auto tone = test::sine(1000.0, 44100, 44100, 8000.0);
  std::vector<int16_t> stereo;
  for (int16_t s : tone) {
    stereo.push_back(s);
    stereo.push_back(s);
  }
  sf_writef_short(f, stereo.data(), 44100);
  sf_close(f);
  const auto r = load_audio_file(path.string(), 16000);
  std::filesystem::remove(path);
  ASSERT_TRUE(r.clip) << r.error;
  EXPECT_NEAR(static_cast<double>(r.clip->samples.size()), 16000.0, 2.0);
  const std::span<const int16_t> mid(r.clip->samples.data() + 4000, 4000);
  EXPECT_NEAR(test::tone_amplitude(mid, 1000.0, 16000), 8000.0, 400.0);
}

TEST(ClipLoad, ReportsMissingFilesAndBadRates) {
  EXPECT_FALSE(load_audio_file("/nonexistent/x.wav", 8000).clip);
  EXPECT_FALSE(load_audio_file("/nonexistent/x.wav", 8000).error.empty());
  EXPECT_FALSE(load_audio_file(kAudioDir + "hold-music.wav", 11025).clip);
}

// Looping wraps seamlessly: the concatenated frames equal the clip repeated.
// check-config's view of a file: its header only, nothing decoded.
TEST(ClipLoad, ProbeReadsTheHeaderOrSaysWhyTheFileIsNoAudio) {
  const AudioFileInfo music = probe_audio_file(kAudioDir + std::string(kHoldMusicFile));
  EXPECT_EQ(music.error, "");
  EXPECT_EQ(music.rate_hz, 16000u);
  EXPECT_EQ(music.channels, 1u);
  EXPECT_NEAR(music.seconds(), 16.0, 0.01);

  EXPECT_EQ(probe_audio_file(kAudioDir + "no-such.wav").error, "no such file");
  EXPECT_EQ(probe_audio_file(kAudioDir).error, "is a directory, not an audio file");
  const AudioFileInfo empty = probe_audio_file(std::string(WARMLINE_TEST_DATA) + "/config/hold.wav");  // 0 bytes
  EXPECT_EQ(empty.error.rfind("not audio that libsndfile can read (", 0), 0u) << empty.error;
  EXPECT_EQ(empty.error.back(), ')');
  EXPECT_NE(probe_audio_file(std::string(WARMLINE_SOURCE_DIR) + "/conf/warmline.toml").error, "");
}

TEST(ClipSource, LoopsSeamlesslyAndOneShotEnds) {
  auto clip = std::make_shared<AudioClip>();
  clip->rate_hz = 8000;
  for (int i = 0; i < 250; ++i) clip->samples.push_back(static_cast<int16_t>(i + 1));
  ClipSource loop(clip, true);
  Frame f;
  for (int k = 0; k < 10; ++k) {
    ASSERT_TRUE(loop.read(f));
    for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f[i], clip->samples[(k * 160 + i) % 250]);
  }
  ClipSource once(clip, false);
  ASSERT_TRUE(once.read(f));
  ASSERT_TRUE(once.read(f));  // the last 90 samples, then silence
  EXPECT_EQ(f[89], 250);
  EXPECT_EQ(f[90], 0);
  EXPECT_FALSE(once.read(f));
  EXPECT_TRUE(f.is_silent());
  Frame wide({16000, 20});
  ClipSource other(clip, true);
  EXPECT_FALSE(other.read(wide));  // rate mismatch is refused, not played at the wrong speed
}

TEST(Sdp, RtpmapValues) {
  EXPECT_EQ(rtpmap_value(*find_codec("PCMU", 8000)), "PCMU/8000");
  EXPECT_EQ(rtpmap_value(*find_codec("G722", 8000)), "G722/8000");
  EXPECT_EQ(rtpmap_value(*find_codec("opus", 48000)), "opus/48000/2");
  EXPECT_NE(find_codec("opus", 48000)->fmtp.find("useinbandfec=1"), std::string_view::npos);
}

}  // namespace
}  // namespace warmline::media
