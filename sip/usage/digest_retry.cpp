#include "sip/usage/digest_retry.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace warmline::sip {

namespace {

ClientTransactionId send_attempt(TransactionLayer& layer, Message request, const Endpoint& hop,
                                 std::shared_ptr<auth::DigestClient> digest, ResponseHandler handler, int answered) {
  Message sent = request;  // before the layer adds its Via: the retry is built from it
  return layer.send_request(
      std::move(request), hop,
      [&layer, sent = std::move(sent), hop, digest = std::move(digest), handler = std::move(handler),
       answered](const Message& r) {
        if (answered < kMaxChallengeAnswers && is_digest_challenge(r)) {
          ChallengeRetry retry = build_challenge_retry(*digest, sent, r, sent.cseq.number + 1, layer.random());
          // The handler stays in the ended transaction; the retry gets copies of what it needs.
          if (retry.ok()) {
            (void)send_attempt(layer, std::move(*retry.request), hop, digest, handler, answered + 1);
            return;
          }
          spdlog::info("{} {}: {} {} not answered: {}", sent.method, sent.call_id, r.status_code, r.reason,
                       retry.error.message());
        }
        if (handler) handler(r);
      });
}

}  // namespace

bool is_digest_challenge(const Message& response) {
  return !response.is_request && (response.status_code == 401 || response.status_code == 407);
}

ChallengeRetry build_challenge_retry(auth::DigestClient& digest, const Message& sent, const Message& challenge,
                                     uint32_t cseq, RandomSource& random) {
  // The answer is computed over the request as challenged: its own Authorization tells the client
  // whether this challenge is the server's verdict on our credentials.
  auth::DigestAnswer answer = digest.answer(sent, challenge, random);
  if (!answer.ok()) return {std::nullopt, answer.error};
  Message retry = sent;
  retry.vias.clear();
  retry.cseq.number = cseq;
  auth::set_authorization(retry, *answer.header);
  return {std::move(retry), {}};
}

ClientTransactionId send_answering_challenges(TransactionLayer& layer, Message request, const Endpoint& hop,
                                              std::shared_ptr<auth::DigestClient> digest, ResponseHandler handler) {
  if (!digest) return layer.send_request(std::move(request), hop, std::move(handler));
  return send_attempt(layer, std::move(request), hop, std::move(digest), std::move(handler), 0);
}

}  // namespace warmline::sip
