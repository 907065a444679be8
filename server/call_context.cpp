#include "server/call_context.hpp"

namespace warmline::server {

const std::string& allow_header_value() {
  static const std::string value = [] {
    std::string v;
    for (std::string_view m : kHandledMethods) {
      if (!v.empty()) v += ", ";
      v += m;
    }
    return v;
  }();
  return value;
}

}  // namespace warmline::server
