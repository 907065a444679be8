// Small message builders shared by transactions, dialogs and usages: responses (RFC 3261 §8.2.6),
// branches (§8.1.1.7), tags (§19.3) and Call-IDs (§8.1.1.4).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace warmline::sip {

// Per-owner randomness (no global generator): a shard, a transaction layer or a test owns one.
// Branches, tags and Call-IDs must be unique, not secret, so a seeded mt19937_64 is enough.
class RandomSource {
 public:
  RandomSource() : engine_(std::random_device{}()) {}
  explicit RandomSource(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }
  // `length` characters from [0-9a-zA-Z] (all legal in token, tag and Call-ID).
  std::string token(size_t length);

 private:
  std::mt19937_64 engine_;
};

inline constexpr std::string_view kBranchCookie = "z9hG4bK";  // RFC 3261 §8.1.1.7

// A response to `request` (§8.2.6.2): copies every Via, From, To (the caller adds the To tag when one is
// needed), Call-ID and CSeq; nothing else.
Message make_response(const Message& request, int status, std::string_view reason);

// The two requests built from an INVITE we sent, which share its Request-URI, Call-ID, From, CSeq
// number, top Via (so its branch) and Route headers:
// §9.1 CANCEL (To from the INVITE) and §17.1.1.3 ACK for a non-2xx final (To from the response).
Message make_cancel(const Message& invite);
Message make_non_2xx_ack(const Message& invite, const Message& response);

std::string new_branch(RandomSource& random);   // "z9hG4bK" + 16 random characters
std::string new_tag(RandomSource& random);      // 12 random characters
std::string new_call_id(RandomSource& random, std::string_view host);  // "<20 random>@host"

// The standard reason phrase for a status code ("" for an unknown code).
std::string_view reason_phrase(int status);

}  // namespace warmline::sip
