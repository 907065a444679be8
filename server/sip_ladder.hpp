// A call's SIP ladder (GET /v1/calls/{id}/ladder, the /ui page): each SIP message of every leg of the
// call, in the order the shard sent or took it in, with what a person reading a ladder looks for (the
// first line, the CSeq, and for REFER/NOTIFY/INVITE their key header).
//
// The shard's transaction layer shows every message it sends or receives to the shard's LadderIndex
// (TransactionLayer::set_tap), which finds the call's ladder by the message's Call-ID: the caller's
// dialog (leg "a") and each leg the call dials ("b1", "b2", ... in the order they were dialled).
// Retransmissions the transactions make themselves are not shown; ones received are.
//
// Bounded: the last kLadderCap entries, each text cut to kLadderTextCap bytes (SIP headers are
// hostile input: they are kept as text, and escaped by whoever shows them). The SIP path only: nothing
// here runs per media packet.
//
// Thread: the call's shard.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/message.hpp"

namespace warmline::server {

inline constexpr size_t kLadderCap = 200;
inline constexpr size_t kLadderTextCap = 200;

struct LadderEntry {
  std::chrono::system_clock::time_point at;
  std::string leg;         // "a" (the caller), "b1", "b2", ... (legs the call dialled)
  bool outgoing = false;   // sent by warmline (else received)
  std::string first_line;  // "INVITE sip:...", "200 OK"
  uint32_t cseq = 0;
  std::string cseq_method;
  std::string detail;      // REFER: Refer-To; NOTIFY: Event and the sipfrag's first line; INVITE: To
};

class SipLadder {
 public:
  explicit SipLadder(size_t cap = kLadderCap) : cap_(cap) {}

  void add(const sip::Message& message, std::string_view leg, bool outgoing,
           std::chrono::system_clock::time_point at = std::chrono::system_clock::now());
  const std::deque<LadderEntry>& entries() const { return entries_; }
  uint64_t dropped() const { return dropped_; }  // older entries that made room for newer ones

  // The Call-IDs of the call's legs and their names; the next dialled leg's name.
  const std::vector<std::pair<std::string, std::string>>& legs() const { return legs_; }
  std::string next_dialled_leg() const;

 private:
  friend class LadderIndex;
  size_t cap_;
  std::deque<LadderEntry> entries_;
  uint64_t dropped_ = 0;
  std::vector<std::pair<std::string, std::string>> legs_;  // {Call-ID, leg}
};

// One per shard: Call-ID -> the ladder of the call that owns that dialog.
class LadderIndex {
 public:
  // Messages with `call_id` go to `ladder` as leg `leg` from now on.
  void watch(const std::string& call_id, const std::shared_ptr<SipLadder>& ladder, std::string leg);
  // The call is over: none of its Call-IDs is followed any more.
  void forget(const SipLadder& ladder);
  // From the transaction layer's tap.
  void on_message(const sip::Message& message, bool outgoing);
  size_t size() const { return by_call_id_.size(); }

 private:
  struct Watch {
    std::weak_ptr<SipLadder> ladder;
    std::string leg;
  };
  std::unordered_map<std::string, Watch> by_call_id_;
};

// What a ladder row shows of `message` (exposed for the unit tests).
std::string ladder_first_line(const sip::Message& message);
std::string ladder_detail(const sip::Message& message);

}  // namespace warmline::server
