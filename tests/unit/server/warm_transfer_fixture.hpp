// The fixture of the warm transfer tests (warm_transfer_test.cpp, warm_consult_test.cpp): a call whose
// agent asks for a warm transfer, its target dialled on leg b through the fake network.
#pragma once

#include "bridged_dial_fixture.hpp"
#include "server/agent/native_agent_channel.hpp"

namespace warmline::server {

struct WarmTransferTest : BridgedDialTest {
  void agent_warm(Caller& c, std::string briefing, ai::Screening screening, std::vector<std::string> targets = {"Craig"},
                  ai::HoldAudio hold = ai::HoldAudio::kMusic) {
    c.agent->command(warm_request(std::move(briefing), screening, std::move(targets), hold));
    settle();
  }
  ai::TransferRequest warm_request(std::string briefing, ai::Screening screening,
                                   std::vector<std::string> targets = {"Craig"},
                                   ai::HoldAudio hold = ai::HoldAudio::kMusic) {
    ai::TransferRequest r = transfer(std::move(targets));
    r.hold = hold;
    r.mode = ai::TransferMode::kWarm;
    r.briefing = std::move(briefing);
    r.screening = screening;
    return r;
  }
  // The target answered: its leg b is up and the gate runs on it.
  Target answered(Caller& c, std::string briefing, ai::Screening screening) {
    return answered(c, warm_request(std::move(briefing), screening));
  }
  Target answered(Caller& c, ai::TransferRequest request) {
    c.agent->command(std::move(request));
    settle();
    auto t = dialled(kProvider);
    EXPECT_TRUE(t) << "no INVITE to the target";
    if (!t) return Target{};
    ring(*t);
    pick_up(*t);
    return *t;
  }
  // The speech engine renders request `i` (`samples` long) and it plays out on the target's leg.
  void speak_and_play(Target& t, size_t i, size_t samples = 1600) {
    speech.finish(i, samples);
    settle();
    EXPECT_EQ(t.media->queued_samples, samples) << "the speech is queued on the target's leg";
    t.media->play_out();
    settle();
  }
  void expect_bridged(Caller& c, Target& t) {
    EXPECT_EQ(call(c)->state(), CallState::kBridged);
    EXPECT_EQ(c.media->bridged_to, t.media->session);
    EXPECT_EQ(c.agent->stop_reason(), "transferred");
  }
};

}  // namespace warmline::server
