#include "sip/parse_sip_command.hpp"

#include <fstream>
#include <iterator>
#include <ostream>

#include "sip/parse_check.hpp"
#include "sip/parser.hpp"

namespace warmline::sip {
namespace {

void print_summary(const Message& m, std::ostream& out) {
  if (m.is_request)
    out << "request " << m.method << ' ' << m.request_uri.to_string();
  else
    out << "response " << m.status_code << ' ' << m.reason;
  out << " call-id=" << m.call_id << " cseq=" << m.cseq.number << ' ' << m.cseq.method
      << " vias=" << m.vias.size() << " body=" << m.body.size();
  if (m.is_request) {
    if (auto r = check_request_for_uas(m, UasCapabilities{})) out << " uas=" << r->status << ' ' << r->reason;
  }
  out << '\n';
}

}  // namespace

int parse_sip_command(const std::string& path, std::ostream& out, std::ostream& err) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    err << "parse-sip: cannot read " << path << '\n';
    return 2;
  }
  std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    err << "parse-sip: error reading " << path << '\n';
    return 2;
  }
  ParseResult result = parse_message(data);
  if (result.ok()) {
    print_summary(*result.message, out);
    return 0;
  }
  if (result.drop)
    out << "drop: " << result.reason << '\n';
  else
    out << result.status << ' ' << result.reason << '\n';
  return 1;
}

}  // namespace warmline::sip
