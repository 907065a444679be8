// The bridged-dial tests' fixture (bridged_dial_test.cpp, bridged_dial_outcome_test.cpp,
// refer_fallback_test.cpp, outbound_leg_test.cpp): the call fixture with calls to agent `dialer` and
// the checks every scenario shares.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "call_fixture.hpp"
#include "sip/sdp.hpp"

namespace warmline::server {

struct BridgedDialTest : CallFixture {
  // An answered and ACKed call to agent `dialer` from `at` (default: the trunk that refuses REFER).
  Caller dialer_call(const sip::Endpoint& at = kNoReferPeer, InviteOptions options = {}) {
    Caller c = make_caller(kDialerNumber, at);
    invite(c, std::move(options));
    EXPECT_TRUE(c.agent);
    if (!c.agent) return c;
    c.agent->open();
    ack(c);
    return c;
  }
  void agent_transfers(Caller& c, std::vector<std::string> targets, std::string id = "t1") {
    c.agent->command(transfer(std::move(targets), std::move(id)));
    settle();
  }
  static std::vector<std::string> transfer_frames(const Caller& c) {
    std::vector<std::string> out;
    for (const auto& f : c.agent->frames)
      if (f.starts_with("transfer ")) out.push_back(f);
    return out;
  }
  AgentConfig& dialer() {
    for (auto& a : config.agents)
      if (a.name == "dialer") return a;
    throw std::runtime_error("no agent dialer in the test config");
  }
  // The transfer reached the target and it answered: caller and target are bridged.
  Target bridged(Caller& c, std::string_view target = "Craig", const sip::Endpoint& at = kProvider) {
    agent_transfers(c, {std::string(target)});
    auto t = dialled(at);
    EXPECT_TRUE(t) << "no INVITE to " << at.to_string();
    if (!t) return Target{};
    ring(*t);
    pick_up(*t);
    EXPECT_EQ(call(c)->state(), CallState::kBridged);
    return *t;
  }
  // After a failed dial the caller is with the agent again: no ringback, joined to no leg b, and what
  // the agent says is played (and then has played: a later transfer waits for queued agent audio).
  void expect_back_with_agent(Caller& c) {
    EXPECT_EQ(call(c)->state(), CallState::kActive);
    EXPECT_FALSE(c.media->ringback);
    EXPECT_EQ(c.media->hold, std::nullopt) << "no hold audio any more";
    EXPECT_EQ(c.media->bridged_to, nullptr);
    const size_t before = c.media->queued_samples;
    c.agent->audio(160);
    EXPECT_EQ(c.media->queued_samples, before + 160) << "the agent is heard again";
    c.media->play_out();
    settle();
  }
  // The caller's side answers warmline's BYE, if one went out.
  void caller_answers_bye(const Caller& c) {
    if (auto* bye = last_request(c, "BYE")) reply(c, *bye, 200);
  }
  // Nothing is left half-open: no active call, no dialog registered in the shard's registry and no
  // media session still on the media clock.
  void expect_nothing_left() {
    settle();
    EXPECT_EQ(router->active_calls(), 0u);
    EXPECT_EQ(dialogs.size(), 0u) << "a dialog is still registered after the call ended";
    EXPECT_EQ(clock.stats().participants, 0u) << "a media session still ticks after the call ended";
  }
  // The first m= section of a message's SDP body.
  static sip::MediaDescription audio_of(const sip::Message& m) {
    auto parsed = sip::parse_sdp(m.body);
    if (!parsed.sdp || parsed.sdp->media.empty()) throw std::runtime_error("no SDP in the message: " + parsed.error);
    return parsed.sdp->media.front();
  }
};

}  // namespace warmline::server
