// The recordings' writer and a call's recorder (docs/recording.md): stereo WAV files written off the
// caller's thread, the caller left and what the caller heard right; and the check of recording_dir.
#include "server/recording/call_recorder.hpp"
#include "server/recording/recording_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>

#include <fstream>
#include <vector>

#include "../cdr/cdr_test_util.hpp"
#include "server/config.hpp"

namespace warmline::server {
namespace {

using cdr_test::TempDir;
using ::testing::HasSubstr;

struct Wav {
  int rate = 0;
  int channels = 0;
  int format = 0;
  std::vector<int16_t> samples;  // interleaved
};

Wav read_wav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) {
    ADD_FAILURE() << "cannot read " << path << ": " << sf_strerror(nullptr);
    return {};
  }
  Wav w{info.samplerate, info.channels, info.format, std::vector<int16_t>(static_cast<size_t>(info.frames * info.channels))};
  sf_readf_short(f, w.samples.data(), info.frames);
  sf_close(f);
  return w;
}

TEST(RecordingWriterTest, WritesEachRecordingAsA16BitStereoWavOfItsFrames) {
  TempDir dir;
  RecordingMetrics metrics;
  const std::string a = dir.file("sub/a.wav"), b = dir.file("b.wav");
  {
    RecordingWriter writer(2, metrics);
    const uint64_t ida = writer.open(0, a, 8000);
    const uint64_t idb = writer.open(1, b, 16000);
    EXPECT_EQ(metrics.active.load(), 2);
    std::vector<int16_t> frame(320);
    for (int n = 0; n < 3; ++n) {
      for (size_t i = 0; i < 160; ++i) {
        frame[2 * i] = static_cast<int16_t>(n * 1000 + static_cast<int>(i));  // left
        frame[2 * i + 1] = static_cast<int16_t>(-n * 1000 - static_cast<int>(i));  // right
      }
      EXPECT_TRUE(writer.frame(0, ida, frame));
    }
    std::vector<int16_t> wide(640, 7);
    EXPECT_TRUE(writer.frame(1, idb, wide));
    writer.close(0, ida);
    writer.close(1, idb);
    writer.stop();
    EXPECT_EQ(metrics.active.load(), 0);
  }
  const Wav wa = read_wav(a);  // its folder was created
  EXPECT_EQ(wa.rate, 8000);
  EXPECT_EQ(wa.channels, 2);
  EXPECT_EQ(wa.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  ASSERT_EQ(wa.samples.size(), 3u * 320);
  EXPECT_EQ(wa.samples[0], 0);
  EXPECT_EQ(wa.samples[2 * 5], 5);
  EXPECT_EQ(wa.samples[2 * 5 + 1], -5);
  EXPECT_EQ(wa.samples[320 + 2 * 7], 1007);
  EXPECT_EQ(wa.samples[640 + 2 * 159 + 1], -2159);
  const Wav wb = read_wav(b);
  EXPECT_EQ(wb.rate, 16000);
  EXPECT_EQ(wb.samples, std::vector<int16_t>(640, 7));
  EXPECT_EQ(metrics.dropped_frames.load(), 0u);
  EXPECT_EQ(metrics.failures.load(), 0u);
}

TEST(RecordingWriterTest, AFileThatCannotBeCreatedIsCountedAndTheRestGoesOn) {
  TempDir dir;
  std::ofstream(dir.file("plain")) << "x";
  RecordingMetrics metrics;
  {
    RecordingWriter writer(1, metrics);
    const uint64_t id = writer.open(0, dir.file("plain/c.wav"), 8000);  // under a file: no folder there
    std::vector<int16_t> frame(320, 1);
    writer.frame(0, id, frame);
    writer.close(0, id);
  }  // the destructor stops: everything queued has been handled
  EXPECT_EQ(metrics.failures.load(), 1u);
  EXPECT_EQ(metrics.active.load(), 0);
}

// One call's recording at 8 kHz into `path`: `feed` hands the recorder its audio; the file as written.
template <class Feed>
Wav record_call(const std::string& path, Feed feed) {
  RecordingMetrics metrics;
  {
    RecordingWriter writer(1, metrics);
    {
      CallRecorder recorder(writer, 0, path, 8000);
      EXPECT_EQ(recorder.path(), path);
      feed(recorder);
    }
    writer.stop();
  }
  return read_wav(path);
}

// The recorder joins the caller's audio (left) and what the caller hears (right), each as it comes,
// into 20 ms stereo frames.
TEST(CallRecorderTest, JoinsIncomingLeftAndOutgoingRight) {
  TempDir dir;
  const Wav w = record_call(dir.file("c0-x.wav"), [](CallRecorder& recorder) {
    const std::vector<int16_t> caller(80, 100), heard(160, -200);
    for (int i = 0; i < 10; ++i) {  // 200 ms: the caller's 10 ms packets, our 20 ms frames
      recorder.incoming(caller);
      recorder.incoming(caller);
      recorder.outgoing(heard);
    }
  });
  EXPECT_EQ(w.channels, 2);
  ASSERT_EQ(w.samples.size(), 10u * 320);
  for (size_t i = 0; i < w.samples.size(); i += 2) {
    ASSERT_EQ(w.samples[i], 100) << i;
    ASSERT_EQ(w.samples[i + 1], -200) << i;
  }
}

// A side with nothing to say (the caller's silence suppression) does not hold the other back: its
// channel is silent there.
TEST(CallRecorderTest, ASilentSideIsRecordedAsSilence) {
  TempDir dir;
  const Wav w = record_call(dir.file("c0-y.wav"), [](CallRecorder& recorder) {
    const std::vector<int16_t> heard(160, 300);
    for (int i = 0; i < 10; ++i) recorder.outgoing(heard);
  });
  ASSERT_GE(w.samples.size(), 7u * 320);  // all but the frames the mix waits for at the end
  for (size_t i = 0; i < w.samples.size(); i += 2) {
    ASSERT_EQ(w.samples[i], 0) << i;
    ASSERT_EQ(w.samples[i + 1], 300) << i;
  }
}

TEST(RecordingDirTest, AFolderOrAPathUnderAWritableFolderIsFine) {
  TempDir dir;
  EXPECT_EQ(check_recording_dir(dir.file("")), "");
  EXPECT_EQ(check_recording_dir(dir.file("a/b/c")), "");
}

TEST(RecordingDirTest, APathUnderAFileIsRefused) {
  TempDir dir;
  std::ofstream(dir.file("plain")) << "x";
  EXPECT_THAT(check_recording_dir(dir.file("plain/rec")), HasSubstr("is not a folder"));
  EXPECT_THAT(check_recording_dir(dir.file("plain")), HasSubstr("is not a folder"));
  EXPECT_EQ(check_recording_dir(""), "must not be empty");
}

// check-config names the key that asks for an unusable folder: recording_dir itself when it is set,
// else the `record` of the first agent that records.
TEST(RecordingDirTest, ConfigRefusesAnUnusableFolderAtTheKeyThatAsksForIt) {
  TempDir dir;
  std::ofstream(dir.file("plain")) << "x";
  const auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const std::string agent = "\n[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\nrecord = true\n";
  LoadResult named = load_config_text("[server]\nrecording_dir = \"" + dir.file("plain/rec") + "\"\n" + agent,
                                      dir.file("w.toml"), env);
  ASSERT_EQ(named.errors.size(), 1u);
  EXPECT_EQ(named.errors[0].key_path, "server.recording_dir");
  EXPECT_EQ(named.errors[0].line, 2);
  EXPECT_EQ(named.errors[0].file, dir.file("w.toml"));
  EXPECT_THAT(named.errors[0].message, HasSubstr("is not a folder"));

  // The default folder, "recordings" beside the config file: here under a file.
  LoadResult by_agent = load_config_text(agent, dir.file("plain/w.toml"), env);
  ASSERT_EQ(by_agent.errors.size(), 1u);
  EXPECT_EQ(by_agent.errors[0].key_path, "agent[0].record");
  EXPECT_EQ(by_agent.errors[0].line, 5);
  EXPECT_THAT(by_agent.errors[0].message, HasSubstr("[server] recording_dir"));

  // Nobody records and the key is not set: the default folder is not checked.
  LoadResult quiet = load_config_text("[[agent]]\nname = \"a\"\nurl = \"ws://h/\"\n", dir.file("plain/w.toml"), env);
  EXPECT_TRUE(quiet.ok());
  LoadResult fine = load_config_text("[server]\nrecording_dir = \"rec\"\n" + agent, dir.file("w.toml"), env);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine.config->server.recording_dir, dir.file("rec"));
  EXPECT_TRUE(fine.config->agents[0].record);
}

}  // namespace
}  // namespace warmline::server
