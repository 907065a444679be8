#pragma once
// The AI agent played by warmline-load: a WebSocket server (native protocol) on 127.0.0.1 that the
// gateway connects to once per call. It reads the `start` text frame and echoes every binary (audio)
// frame straight back, so the caller hears its own stamped audio. On each stamped frame it records
// caller -> AI latency (t1 - t0, t0 from the RTP thread's ring) and the echo's send time t2.
//
// Bridged mode: request_transfer(call) asks the call's connection (known from the caller's number in
// `start`, "wl<index>") to send a cold `transfer` to the target name, with the call index in an
// X-Load-Call header so the generator's target can tell the calls apart; the `transfer` events that
// come back are counted by how they ended.
//
// Runs its own thread with one io_context (Boost.Beast lives only in agent_server.cpp).
#include <memory>
#include <string>

#include "bench/load/shared_state.hpp"

namespace warmline::load {

class AgentServer {
 public:
  // `bridge_target` empty: never transfers.
  // `transfer_fields`: what the transfer message carries beyond its target (mode, after_bridge, ...),
  // as JSON members with a leading comma.
  AgentServer(SharedState& shared, std::string bridge_target = {}, std::string transfer_fields = {});
  ~AgentServer();  // stops and joins
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // "127.0.0.1:PORT": binds and starts the thread. False with a reason when the port cannot be bound.
  bool start(const std::string& listen, std::string& error);
  void stop();
  // Any thread: posts the transfer of `call` to the agent's thread.
  void request_transfer(uint32_t call);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::load
