#include "sip/transaction/common.hpp"

#include "sip/builders.hpp"

namespace warmline::sip::transaction {

void ClientTx::synthesize(int status) {
  if (!handler_) return;
  // A reason phrase is TEXT-UTF8 without CR/LF (§25.1): the transport's text is ours, but kept safe.
  std::string reason = status == 503 && !transport_error_.empty() ? transport_error_ : std::string(reason_phrase(status));
  for (char& c : reason)
    if (c == '\r' || c == '\n') c = ' ';
  handler_(make_response(request_, status, reason));
}

}  // namespace warmline::sip::transaction
