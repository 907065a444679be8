#pragma once
// The --rtp-relay pairs file: the contract with the rtpengine comparison script (bench/README.md).
// One call per line: "SENDTO_IP:PORT RECV_LOCAL_PORT [SEND_LOCAL_PORT]": leg A sends to
// SENDTO_IP:PORT (the relay's side facing A) from 127.0.0.1:SEND_LOCAL_PORT (ephemeral when left
// out), and leg B receives what the relay forwards on 127.0.0.1:RECV_LOCAL_PORT. Blank lines and lines
// starting with '#' are ignored.
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::load {

struct RelayPair {
  sockaddr_in send_to{};
  uint16_t recv_port = 0;
  uint16_t send_port = 0;  // 0 = ephemeral
};

struct RelayPairsResult {
  std::vector<RelayPair> pairs;
  std::string error;       // "LINE: what is wrong" for the first bad line; pairs is then empty
};

RelayPairsResult parse_relay_pairs(std::string_view text);

}  // namespace warmline::load
