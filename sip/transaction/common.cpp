#include "sip/transaction/common.hpp"

#include "sip/builders.hpp"

namespace warmline::sip::transaction {

void ClientTx::synthesize(int status) {
  if (handler_) handler_(make_response(request_, status, reason_phrase(status)));
}

}  // namespace warmline::sip::transaction
