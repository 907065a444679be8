// SRTP packet index and replay state per SSRC (RFC 3711 §3.3.1, §3.3.2 and Appendix A), for
// rtp/srtp_transform. A fixed table: no allocation when a new SSRC appears, none per packet.
//
// Every stream starts with the ROC 0 and the first packet's sequence number as its highest index (as
// libsrtp starts one). The index of a packet is estimated from the highest index so far (Appendix A);
// a guess that would need a ROC below 0 or above 2^32-1 is refused as too old (kReplayed).
// The replay window is 128 packets (a bitmap): a packet more than 127 behind the highest index, or one
// already seen, is refused. Nothing here changes until `commit`, which the caller runs only once the
// packet has authenticated, so a forged packet cannot move a window.
//
// Thread: owned by one SrtpTransform, so by one shard.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace warmline::rtp {

// RFC 3711 Appendix A: the 48-bit index of `seq` given the highest index received (or sent) so far;
// nullopt when the guessed ROC falls outside 0..2^32-1.
std::optional<uint64_t> srtp_estimate_index(uint64_t highest, uint16_t seq);

class SrtpReplayTable {
 public:
  // SSRCs one direction tracks at once. A call leg's peer sends one (two with RFC 4733 events on their
  // own SSRC); a few more cover an SSRC change on re-INVITE or transfer behind the peer.
  static constexpr size_t kStreams = 4;
  static constexpr uint64_t kWindow = 128;

  enum class Check { kOk, kReplayed };
  // What `check` found: the estimated index and where `commit` records it.
  struct Verdict {
    Check check = Check::kReplayed;
    uint64_t index = 0;
    int slot = -1;      // the stream's slot, or -1 for a new stream
    bool full = false;  // a new stream and no free slot
  };

  // The index of a packet of `ssrc` with sequence number `seq` and whether the window takes it.
  Verdict check(uint32_t ssrc, uint16_t seq) const;
  // Records an authenticated packet `check` answered kOk for. A new stream takes a free slot, or with
  // `evict` the slot used longest ago (when full); without `evict` a full table records nothing.
  // False when it recorded nothing.
  bool commit(uint32_t ssrc, const Verdict& verdict, bool evict);

 private:
  __extension__ typedef unsigned __int128 Bits;
  struct Stream {
    bool used = false;
    uint32_t ssrc = 0;
    uint64_t highest = 0;  // 48-bit index
    Bits seen = 0;         // bit k: index highest - k was received
    uint64_t last_use = 0; // `clock_` of the last commit
  };
  std::array<Stream, kStreams> streams_{};
  uint64_t clock_ = 0;
};

}  // namespace warmline::rtp
