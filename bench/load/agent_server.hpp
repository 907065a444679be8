#pragma once
// The AI agent played by warmline-load: a WebSocket server (native protocol) on 127.0.0.1 that the
// gateway connects to once per call. It reads the `start` text frame and echoes every binary (audio)
// frame straight back, so the caller hears its own stamped audio. On each stamped frame it records
// caller -> AI latency (t1 - t0, t0 from the RTP thread's ring) and the echo's send time t2.
//
// Runs its own thread with one io_context (Boost.Beast lives only in agent_server.cpp).
#include <memory>
#include <string>

#include "bench/load/shared_state.hpp"

namespace warmline::load {

class AgentServer {
 public:
  explicit AgentServer(SharedState& shared);
  ~AgentServer();  // stops and joins
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // "127.0.0.1:PORT": binds and starts the thread. False with a reason when the port cannot be bound.
  bool start(const std::string& listen, std::string& error);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::load
