// A SipTracer for the transports' trace tests: keeps a copy of every message it is handed.
#pragma once

#include <string>
#include <vector>

#include "sip/sip_trace.hpp"

namespace warmline::sip::test {

struct TracedCopy {
  Protocol protocol;
  Endpoint source, destination;
  std::string bytes;
};

class RecordingTracer final : public SipTracer {
 public:
  void trace(const TracedMessage& m) override {
    seen.push_back(TracedCopy{m.protocol, m.source, m.destination, std::string(m.bytes)});
  }
  std::vector<TracedCopy> seen;
};

}  // namespace warmline::sip::test
