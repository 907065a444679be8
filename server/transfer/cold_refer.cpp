#include "server/transfer/cold_refer.hpp"

namespace warmline::server {

TransferUpdate ColdRefer::end(TransferResult result, int status, std::string reason) {
  state_ = State::kDone;
  return TransferUpdate{TransferUpdate::Kind::kEnded, "ended", result, status, std::move(reason)};
}

TransferUpdate ColdRefer::on_refer_sent() {
  state_ = State::kReferSent;
  return TransferUpdate{TransferUpdate::Kind::kProgress, "dialing", TransferResult::kFailed, 0, ""};
}

std::optional<TransferUpdate> ColdRefer::on_refer_response(int status, const std::string& reason) {
  if (state_ != State::kReferSent || status < 200) return std::nullopt;
  if (status < 300) {
    state_ = State::kAccepted;
    return std::nullopt;
  }
  if (status == 408) return end(TransferResult::kTimeout, status, reason.empty() ? "REFER timed out" : reason);
  return end(TransferResult::kRejected, status, reason);
}

std::optional<TransferUpdate> ColdRefer::on_notify(int sipfrag_status, const std::string& reason,
                                                      bool terminated) {
  // RFC 3515 §2.4.4: a NOTIFY may arrive before the 202 (the REFER's response can be lost or
  // reordered); it implies acceptance.
  if (state_ != State::kReferSent && state_ != State::kAccepted) return std::nullopt;
  state_ = State::kAccepted;
  if (sipfrag_status >= 200) return end(result_for_target_status(sipfrag_status), sipfrag_status, reason);
  if (terminated) return end(TransferResult::kFailed, sipfrag_status, "subscription terminated without a final status");
  if (sipfrag_status == 180 || sipfrag_status == 183)
    return TransferUpdate{TransferUpdate::Kind::kProgress, "ringing", TransferResult::kFailed, sipfrag_status, reason};
  return std::nullopt;
}

std::optional<TransferUpdate> ColdRefer::on_timeout() {
  if (state_ != State::kReferSent && state_ != State::kAccepted) return std::nullopt;
  return end(TransferResult::kTimeout, 0, "no final NOTIFY within refer_timeout");
}

std::optional<TransferUpdate> ColdRefer::on_caller_bye() {
  if (state_ == State::kAccepted)
    return end(TransferResult::kCompleted, 0, "caller's side hung up after accepting the REFER (unconfirmed)");
  if (state_ == State::kReferSent) return end(TransferResult::kCallerHungUp, 0, "caller hung up");
  return std::nullopt;
}

}  // namespace warmline::server
