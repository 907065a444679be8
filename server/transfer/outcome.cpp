#include "server/transfer/outcome.hpp"

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

std::string_view metric_label(TransferResult result) { return ai::to_string(result); }

std::string_view TransferRefusal::api_code() const {
  switch (code) {
    case Code::kUnknownTarget: return "unknown_target";
    case Code::kNumberNotAllowed: return "number_not_allowed";
    case Code::kInvalidNumber: return "invalid_number";
    case Code::kNoTrunk: return "no_trunk";
    case Code::kMissingField: return "missing_field";
    case Code::kInvalidField: return "invalid_field";
    case Code::kTransferInProgress: return "transfer_in_progress";
    case Code::kNotActive: return "not_active";
    case Code::kNotSupported: return "not_supported";
  }
  return "failed";
}

int TransferRefusal::http_status() const {
  switch (code) {
    case Code::kTransferInProgress:
    case Code::kNotActive: return 409;
    case Code::kNotSupported: return 501;
    default: return 422;
  }
}

}  // namespace warmline::server
