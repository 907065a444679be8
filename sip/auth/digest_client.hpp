// The client side of SIP digest authentication (RFC 3261 §22.2-22.4, RFC 7616, RFC 8760): one object
// per set of credentials and realm (a trunk's, or a target's), answering the 401/407 responses to the
// requests sent with them, and never letting a caller loop on a refusal.
//
// Thread: owned by one shard, like the legs and registrations that use it; no locks.
//
// Contract for the caller, per challenged request:
//   1. `answer(request, response, random)` with the request exactly as it was sent and its 401/407.
//   2. On success, build the retry (RFC 3261 §22.2, §8.1.3.5): a copy of the request with the
//      returned header put in by `set_authorization()`, the CSeq number incremented (inside a dialog:
//      the dialog's next local CSeq), a new Via branch (it is a new transaction), and the same
//      Call-ID, From (tag included), To and Request-URI. The ACK of a 2xx to a retried INVITE
//      carries the INVITE's credentials (§13.2.2.4); CANCEL and the ACK of a non-2xx are never
//      challenged (§22.1) and need no answer from here.
//   3. On error, stop: every DigestError means "do not send it again" (the transfer result is
//      `rejected`). The usual ones: kCredentialsRejected (challenged again for our realm after we
//      answered, without stale=true), kStaleRepeated (stale=true again on the nonce of our one stale
//      retry).
// Because the decision reads the challenged request's own Authorization header (did it carry our
// credentials for this realm, with which nonce and nc?), one DigestClient serves several requests in
// flight at once, e.g. concurrent INVITEs through one trunk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "sip/auth/digest_challenge.hpp"
#include "sip/auth/digest_credentials.hpp"
#include "sip/builders.hpp"
#include "sip/message.hpp"

namespace warmline::sip::auth {

struct AuthorizationHeader {
  std::string_view name;  // "Authorization" (answering a 401) or "Proxy-Authorization" (a 407)
  std::string value;      // "Digest username=..., ..."
};

struct DigestAnswer {
  std::optional<AuthorizationHeader> header;  // set on success
  std::error_code error;                      // a DigestError otherwise

  bool ok() const { return header.has_value(); }
};

class DigestClient {
 public:
  // `realm` empty: answer the first realm that challenges, then only that one (credentials are not
  // offered to whichever realm asks: a foreign realm would get material for a dictionary attack).
  explicit DigestClient(DigestCredentials credentials, std::string realm = {});

  // Answers `response` (a 401 or 407) to `request`. The strongest usable challenge for our realm is
  // taken (SHA-512-256 > SHA-256 > MD5). nc counts per nonce: 1 for a new nonce, one more for each
  // header built with the same nonce (a server may hand out the same nonce again).
  DigestAnswer answer(const Message& request, const Message& response, RandomSource& random);

  // Credentials for a new request from the last challenge answered (next nc), for requests that will
  // meet the same server again (REGISTER refreshes, in-dialog REFER/BYE through an authenticating
  // proxy), saving one round trip. nullopt before the first challenge, or when the request cannot be
  // put in the header. A stale answer to it is retried by `answer()` as usual.
  std::optional<AuthorizationHeader> authorize(const Message& request, RandomSource& random);

  const std::string& realm() const { return realm_; }
  uint32_t nonce_count() const { return nc_; }  // nc of the last header built for the current nonce

 private:
  DigestAnswer build(const Message& request, RandomSource& random);

  DigestCredentials credentials_;
  std::string realm_;
  std::optional<DigestChallenge> challenge_;  // the last one answered: its nonce is the current one
  uint32_t nc_ = 0;
  // The nonce adopted through our last stale retry. A stale=true answer to the first use (nc=1) of
  // this nonce means the server rejects every fresh nonce: give up instead of looping.
  std::string stale_nonce_;
};

// Puts `header` into `request`: replaces a header of the same name whose realm is the same (our
// earlier answer), keeps the others (a request may carry one per authenticating proxy, §22.3).
void set_authorization(Message& request, const AuthorizationHeader& header);

}  // namespace warmline::sip::auth
