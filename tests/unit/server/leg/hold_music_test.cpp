// The process's hold music: which rates it is loaded at for the configured codecs, one clip per rate
// from one file, and what check-config says about files that cannot be hold music.
#include "server/leg/hold_music.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "media/prompts.hpp"

namespace warmline::server {
namespace {

using ::testing::HasSubstr;

TEST(HoldMusicTest, IsLoadedAtThePcmRateOfEachConfiguredCodecOnce) {
  EXPECT_EQ(HoldMusic::rates_for({"PCMU", "PCMA"}), (std::vector<uint32_t>{8000}));
  EXPECT_EQ(HoldMusic::rates_for({"opus", "G722", "PCMA"}), (std::vector<uint32_t>{48000, 16000, 8000}));
  EXPECT_EQ(HoldMusic::rates_for({"G722"}), (std::vector<uint32_t>{16000}));
}

TEST(HoldMusicTest, OneFileGivesOneClipPerRateOfTheSameLength) {
  const uint32_t rates[] = {8000, 16000, 48000};
  std::string error;
  auto music = HoldMusic::load(shipped_audio_file(media::kHoldMusicFile), rates, error);
  ASSERT_TRUE(music) << error;
  EXPECT_EQ(error, "");
  const auto at8 = music->at(8000), at16 = music->at(16000), at48 = music->at(48000);
  ASSERT_TRUE(at8 && at16 && at48);
  EXPECT_EQ(at8->rate_hz, 8000u);
  EXPECT_EQ(at48->rate_hz, 48000u);
  // The same seconds of music at each rate (the resampler may round a few samples at the end).
  EXPECT_NEAR(static_cast<double>(at16->samples.size()), 2.0 * at8->samples.size(), 8);
  EXPECT_NEAR(static_cast<double>(at48->samples.size()), 6.0 * at8->samples.size(), 24);
  EXPECT_GT(music->seconds(), 1.0);
  EXPECT_EQ(music->at(24000), nullptr) << "not asked for";
}

TEST(HoldMusicTest, AFileThatIsNotAudioIsNotLoaded) {
  const uint32_t rates[] = {8000};
  std::string error;
  EXPECT_EQ(HoldMusic::load(std::string(WARMLINE_TEST_DATA) + "/config/hold.wav", rates, error), nullptr);
  EXPECT_NE(error, "");
  EXPECT_EQ(HoldMusic::load(std::string(WARMLINE_TEST_DATA) + "/config/no-such.wav", rates, error), nullptr);
  EXPECT_NE(error, "");
}

// It is kept decoded at up to three rates, so a file longer than kMaxHoldMusicSeconds is refused.
// (The file is written at 100 Hz, so ten minutes stay small.)
TEST(HoldMusicTest, CheckConfigRefusesHoldMusicLongerThanTheLimit) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "warmline-hold-music-test";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, double seconds) {
    const std::string path = (dir / name).string();
    SF_INFO info{};
    info.samplerate = 100;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
    if (f == nullptr) return path;
    std::vector<short> samples(static_cast<size_t>(seconds * 100), 1000);
    EXPECT_EQ(sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size())),
              static_cast<sf_count_t>(samples.size()));
    sf_close(f);
    return path;
  };
  const std::string ok = write("ten-minutes.wav", kMaxHoldMusicSeconds);
  const std::string too_long = write("eleven-minutes.wav", kMaxHoldMusicSeconds + 60);
  EXPECT_EQ(check_hold_music_file(ok), "");
  EXPECT_THAT(check_hold_music_file(too_long), HasSubstr("'" + too_long + "' is 660 s long; hold music may be at most 600 s"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace warmline::server
