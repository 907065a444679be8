#include "server/transfer_result.hpp"

namespace warmline::server {

std::string_view to_string(TransferResult r) {
  switch (r) {
    case TransferResult::kCompleted: return "completed";
    case TransferResult::kBusy: return "busy";
    case TransferResult::kDeclined: return "declined";
    case TransferResult::kNoAnswer: return "no_answer";
    case TransferResult::kUnreachable: return "unreachable";
    case TransferResult::kRejected: return "rejected";
    case TransferResult::kTimeout: return "timeout";
    case TransferResult::kCancelled: return "cancelled";
    case TransferResult::kCallerHungUp: return "caller_hung_up";
    case TransferResult::kFailed: return "failed";
  }
  return "failed";
}

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
