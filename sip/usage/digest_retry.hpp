// Answering a digest challenge (401/407) to a request we sent with a new request (RFC 3261 §22.2,
// §8.1.3.5): the piece every usage shares once it holds a DigestClient — the INVITE of a dialled leg,
// the REFER of a cold transfer, and the BYEs of both legs (a provider that challenges our BYE and
// never gets an answer keeps billing the call).
//
// The DigestClient decides whether a challenge deserves an answer at all (a second challenge for our
// realm without stale=true never does, see digest_client.hpp); kMaxChallengeAnswers only bounds the
// retries of one request whatever a server sends.
//
// Thread: the shard's, like the TransactionLayer and the DigestClient used.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

#include "sip/auth/digest_client.hpp"
#include "sip/message.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/transport.hpp"

namespace warmline::sip {

// Answers per request: the first challenge, and one stale=true renewal of the nonce.
inline constexpr int kMaxChallengeAnswers = 2;

// A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
bool is_digest_challenge(const Message& response);

struct ChallengeRetry {
  std::optional<Message> request;  // the retry, ready to send
  std::error_code error;           // an auth::DigestError when the challenge is not to be answered

  bool ok() const { return request.has_value(); }
};

// The retry of `sent` (the request as it was sent) that `challenge`, its 401/407, asks for: the same
// request — Call-ID, From with its tag, To, Request-URI, route set, body — with CSeq `cseq` (inside a
// dialog: the dialog's next local CSeq, which the caller owns), no Via (a new transaction: the layer
// adds one with a fresh branch) and the Authorization or Proxy-Authorization that `digest` built.
ChallengeRetry build_challenge_retry(auth::DigestClient& digest, const Message& sent, const Message& challenge,
                                     uint32_t cseq, RandomSource& random);

// Sends a request after which its dialog sends nothing more (a BYE) to `hop`, and answers up to
// kMaxChallengeAnswers challenges to it, each retry with the CSeq one above the challenged one (the
// dialog's next, as nothing else follows in it). `handler` (may be empty) sees the responses of the
// last request sent. `digest` null: the request is sent as it is and a challenge goes to `handler`.
//
// Everything the retries need is held by the handler inside the layer, nothing by the sender: a leg is
// dropped right after its BYE, long before a challenge to it comes back.
ClientTransactionId send_answering_challenges(TransactionLayer& layer, Message request, const Endpoint& hop,
                                              std::shared_ptr<auth::DigestClient> digest, ResponseHandler handler);

}  // namespace warmline::sip
