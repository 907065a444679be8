#include "server/transfer_result.hpp"

namespace warmline::server {

TransferResult result_for_target_status(int s) {
  if (s >= 200 && s < 300) return TransferResult::kCompleted;
  switch (s) {
    case 486: case 600: return TransferResult::kBusy;
    case 603: return TransferResult::kDeclined;
    case 408: case 480: case 487: return TransferResult::kNoAnswer;
    case 404: case 410: case 484: case 502: case 503: case 504: case 604:
      return TransferResult::kUnreachable;
    default: return TransferResult::kFailed;
  }
}

}  // namespace warmline::server
