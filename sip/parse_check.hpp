// UAS-level checks of a parsed request (RFC 3261 §8.2), and a stateless answer to a request too broken
// to parse.
//
// Thread: pure functions; called on the shard that owns the transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"

namespace warmline::sip {

struct UasCapabilities {
  std::vector<std::string> methods{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REFER", "NOTIFY", "INFO"};
  std::vector<std::string> schemes{"sip", "sips", "tel"};
  std::vector<std::string> content_types{"application/sdp"};  // bodies we can read (415 otherwise)
  std::vector<std::string> option_tags{"replaces", "norefersub"};  // Require tags we support (420)
};

struct Rejection {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;  // to add to the response: Allow, Unsupported, Accept
};

// §8.2 in order: method (405 + Allow for a method known to SIP that we do not support, 501 for an
// unknown one, RFC 4475 intmeth/esc02), Request-URI scheme (416), Require (420 + Unsupported listing
// the unknown tags; Proxy-Require is for proxies and ignored), Content-Type of a non-empty body (415 +
// Accept), Accept on INVITE that excludes every type we can send (406). ACK never gets a rejection
// (it cannot be answered), and CANCEL is not checked against Require (§8.2.2.3). nullopt = go on.
std::optional<Rejection> check_request_for_uas(const Message& request, const UasCapabilities& caps);

// A response built textually from a request that failed to parse: copies its Via, From, To, Call-ID
// and CSeq lines (compact names and folds accepted; To gets a tag when it has none), adds
// Content-Length: 0. Returns "" when one of them cannot be found or the input is a response: the
// request is then dropped.
std::string build_stateless_response(std::string_view raw_request, int status, std::string_view reason);

}  // namespace warmline::sip
