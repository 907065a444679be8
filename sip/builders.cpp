#include "sip/builders.hpp"

namespace warmline::sip {

std::string RandomSource::token(size_t length) {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(length, '0');
  uint64_t bits = 0;
  int left = 0;
  for (char& c : out) {
    if (left == 0) {  // 10 characters of ~6 bits each per 64-bit draw
      bits = engine_();
      left = 10;
    }
    c = kAlphabet[(bits & 63) % kAlphabet.size()];
    bits >>= 6;
    --left;
  }
  return out;
}

Message make_response(const Message& request, int status, std::string_view reason) {
  Message r;
  r.is_request = false;
  r.status_code = status;
  r.reason = reason.empty() ? std::string(reason_phrase(status)) : std::string(reason);
  r.vias = request.vias;
  r.from = request.from;
  r.to = request.to;
  r.call_id = request.call_id;
  r.cseq = request.cseq;
  return r;
}

namespace {

Message same_transaction_request(const Message& invite, std::string_view method) {
  Message m;
  m.method = std::string(method);
  m.request_uri = invite.request_uri;
  if (!invite.vias.empty()) m.vias.push_back(invite.vias.front());
  m.from = invite.from;
  m.to = invite.to;
  m.call_id = invite.call_id;
  m.cseq = CSeq{invite.cseq.number, std::string(method)};
  m.max_forwards = 70;
  m.routes = invite.routes;
  return m;
}

}  // namespace

Message make_cancel(const Message& invite) { return same_transaction_request(invite, "CANCEL"); }

Message make_non_2xx_ack(const Message& invite, const Message& response) {
  Message ack = same_transaction_request(invite, "ACK");
  ack.to = response.to;
  return ack;
}

std::string new_branch(RandomSource& random) { return std::string(kBranchCookie) + random.token(16); }

std::string new_tag(RandomSource& random) { return random.token(12); }

std::string new_call_id(RandomSource& random, std::string_view host) {
  std::string id = random.token(20);
  if (!host.empty()) {
    id += '@';
    id += host;
  }
  return id;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 603: return "Decline";
    default: return "";
  }
}

}  // namespace warmline::sip
