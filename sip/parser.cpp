// RFC 3261 §7 / §25 message parser. Works on string_views into the datagram; the only allocations are
// the Message's own strings (and a scratch string when a header is folded).
#include "sip/parser.hpp"

#include "sip/parser_grammar.hpp"
#include "sip/uri.hpp"

namespace warmline::sip {
namespace {

using namespace grammar;
constexpr auto npos = std::string_view::npos;
constexpr uint64_t kMaxUint32 = 0xffffffffULL;

// Header fields that must appear at most once (RFC 4475 multi01, mcl01).
enum SeenBit : unsigned {
  kSeenFrom = 1, kSeenTo = 2, kSeenCallId = 4, kSeenCSeq = 8, kSeenMaxForwards = 16,
  kSeenContentType = 32, kSeenContentLength = 64,
};

// Call-ID = word ["@" word] (§25.1).
bool valid_call_id(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (is_token_char(c) || c == '@') continue;
    if (std::string_view("()<>:\\\"/[]?{}").find(c) == npos) return false;
  }
  return s.front() != '@' && s.back() != '@' && s.find('@') == s.rfind('@');
}

// m-type "/" m-subtype *(";" m-parameter) (§20.15).
bool valid_content_type(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == npos || !is_token(trim(s.substr(0, slash)))) return false;
  std::string_view rest = s.substr(slash + 1);
  skip_lws(rest);
  size_t n = 0;
  while (n < rest.size() && is_token_char(rest[n])) ++n;
  if (n == 0) return false;
  std::vector<Param> params;
  return parse_header_params(rest.substr(n), params);
}

class Parser {
 public:
  Parser(std::string_view data, const ParseLimits& limits) : data_(data), limits_(limits) {}
  ParseResult run();

 private:
  bool fail(int status, std::string_view reason) {
    if (result_.status == 0) {
      result_.status = status;
      result_.reason = reason;
    }
    return false;
  }
  bool bad(std::string_view what) { return fail(400, what); }

  bool next_line(std::string_view& line);
  bool parse_start_line();
  bool parse_request_line(std::string_view line);
  bool parse_status_line(std::string_view line);
  bool parse_headers();
  bool take_header(std::string_view& name, std::string_view& raw_value);
  bool dispatch(std::string_view name, std::string_view value);
  bool dispatch_single(std::string_view name, std::string_view value, bool& handled);
  bool once(SeenBit bit, std::string_view reason);
  bool parse_from_to(bool from, std::string_view value);
  bool parse_cseq(std::string_view value);
  bool parse_contact(std::string_view value);
  bool finish();

  std::string_view data_;
  const ParseLimits& limits_;
  size_t pos_ = 0;
  Message m_;
  ParseResult result_;
  unsigned seen_ = 0;
  std::optional<size_t> content_length_;
  bool terminated_ = false;  // the empty line after the headers was found
  std::string scratch_;
};

// One line ending in LF (the CR before it is dropped); false at the end of the data.
bool Parser::next_line(std::string_view& line) {
  if (pos_ >= data_.size()) return false;
  size_t lf = data_.find('\n', pos_);
  size_t end = lf == npos ? data_.size() : lf;
  line = data_.substr(pos_, end - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = lf == npos ? data_.size() : lf + 1;
  return true;
}

bool Parser::parse_start_line() {
  while (pos_ < data_.size() && (data_[pos_] == '\r' || data_[pos_] == '\n')) ++pos_;  // §7.5
  std::string_view line;
  if (!next_line(line)) return bad("Bad Request - Empty Message");
  m_.is_request = !line.starts_with("SIP/");
  return m_.is_request ? parse_request_line(line) : parse_status_line(line);
}

// Request-Line = Method SP Request-URI SP SIP-Version, single SPs, nothing after (RFC 4475 lwsstart,
// trws, lwsruri, ltgtruri, escruri).
bool Parser::parse_request_line(std::string_view line) {
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == npos || sp1 == sp2) return bad("Bad Request - Malformed Request-Line");
  std::string_view method = line.substr(0, sp1);
  std::string_view uri_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || uri_text.empty() || uri_text.find_first_of(" \t") != npos)
    return bad("Bad Request - Malformed Request-Line");
  if (!iequals(version, "SIP/2.0")) {
    bool looks_like_version = version.size() > 4 && iequals(version.substr(0, 4), "SIP/") &&
                              version.find_first_not_of("0123456789.", 4) == npos;
    return looks_like_version ? fail(505, "Version Not Supported")
                              : bad("Bad Request - Malformed Request-Line");
  }
  auto uri = parse_uri(uri_text);
  if (!uri) return bad("Bad Request - Malformed Request-URI");
  // §19.1.1: URI headers are not allowed in a Request-URI.
  if (!uri->headers.empty()) return bad("Bad Request - Headers in Request-URI");
  m_.method = method;
  m_.request_uri = std::move(*uri);
  return true;
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the code is 3 digits, 100-699.
bool Parser::parse_status_line(std::string_view line) {
  size_t sp = line.find(' ');
  if (sp == npos || !iequals(line.substr(0, sp), "SIP/2.0")) return bad("unsupported SIP version");
  std::string_view rest = line.substr(sp + 1);
  size_t sp2 = rest.find(' ');
  std::string_view code = rest.substr(0, sp2);
  auto value = parse_uint(code, 699);
  if (code.size() != 3 || !value || *value < 100) return bad("status code out of range");
  m_.status_code = static_cast<int>(*value);
  m_.reason = sp2 == npos ? std::string_view() : rest.substr(sp2 + 1);  // may be empty (noreason)
  return true;
}

// A header line plus its continuation lines; raw_value still holds the folds.
bool Parser::take_header(std::string_view& name, std::string_view& raw_value) {
  size_t start = pos_;
  std::string_view line;
  next_line(line);
  size_t end = pos_;
  while (pos_ < data_.size() && is_wsp(data_[pos_])) {
    next_line(line);
    end = pos_;
  }
  std::string_view whole = data_.substr(start, end - start);
  size_t colon = whole.find(':');
  if (colon == npos) return bad("Bad Request - Malformed Header Line");
  name = trim(whole.substr(0, colon));
  if (!is_token(name)) return bad("Bad Request - Malformed Header Name");
  raw_value = whole.substr(colon + 1);
  while (!raw_value.empty() && (raw_value.back() == '\n' || raw_value.back() == '\r')) raw_value.remove_suffix(1);
  return true;
}

bool Parser::parse_headers() {
  size_t count = 0;
  while (pos_ < data_.size()) {
    if (data_[pos_] == '\n' || data_.substr(pos_).starts_with("\r\n")) {
      pos_ += data_[pos_] == '\n' ? 1 : 2;
      terminated_ = true;
      return true;
    }
    if (is_wsp(data_[pos_])) return bad("Bad Request - Malformed Header Line");  // fold with no header
    if (++count > limits_.max_headers) return bad("Bad Request - Too Many Headers");
    std::string_view name, raw;
    if (!take_header(name, raw)) return false;
    const std::string_view value = trim(unfold(raw, scratch_));
    // A CR or LF left after unfolding is a bare one (LWS is CRLF + SP/HT, §25.1), which a serialized
    // message would lose as line-end whitespace (found by the sip_message fuzz target).
    if (value.find_first_of("\r\n") != npos) return bad("Bad Request - Malformed Header Line");
    if (!dispatch(canonical_header_name(name), value)) return false;
  }
  return true;
}

bool Parser::once(SeenBit bit, std::string_view reason) {
  if (seen_ & bit) return bad(reason);
  seen_ |= bit;
  return true;
}

bool Parser::parse_cseq(std::string_view value) {
  size_t n = 0;
  while (n < value.size() && is_digit(value[n])) ++n;
  auto number = parse_uint(value.substr(0, n), kMaxUint32);  // RFC 4475 scalar02: 2^32 or more is bad
  std::string_view method = trim(value.substr(n));
  if (!number || n == value.size() || !is_wsp(value[n]) || !is_token(method))
    return bad("Bad Request - Malformed CSeq");
  m_.cseq.number = static_cast<uint32_t>(*number);
  m_.cseq.method = method;
  return true;
}

bool Parser::parse_contact(std::string_view value) {
  if (value == "*") {
    if (m_.contact_star || !m_.contacts.empty()) return bad("Bad Request - Malformed Contact");
    m_.contact_star = true;
    return true;
  }
  auto list = parse_name_addr_list(value);
  if (!list || m_.contact_star) return bad("Bad Request - Malformed Contact");
  for (auto& c : *list) m_.contacts.push_back(std::move(c));
  return true;
}

bool Parser::parse_from_to(bool from, std::string_view value) {
  if (!once(from ? kSeenFrom : kSeenTo, from ? "Bad Request - Multiple From" : "Bad Request - Multiple To"))
    return false;
  auto na = parse_name_addr(value);
  if (!na) return bad(from ? "Bad Request - Malformed From" : "Bad Request - Malformed To");
  (from ? m_.from : m_.to) = std::move(*na);
  return true;
}

// Single-valued typed headers: From, To, Call-ID, CSeq, Max-Forwards, Content-Type, Content-Length.
bool Parser::dispatch_single(std::string_view name, std::string_view value, bool& handled) {
  handled = true;
  if (iequals(name, "From") || iequals(name, "To")) return parse_from_to(iequals(name, "From"), value);
  if (iequals(name, "Call-ID")) {
    if (!once(kSeenCallId, "Bad Request - Multiple Call-ID")) return false;
    if (!valid_call_id(value)) return bad("Bad Request - Malformed Call-ID");
    m_.call_id = value;
    return true;
  }
  if (iequals(name, "CSeq")) return once(kSeenCSeq, "Bad Request - Multiple CSeq") && parse_cseq(value);
  if (iequals(name, "Max-Forwards")) {
    if (!once(kSeenMaxForwards, "Bad Request - Multiple Max-Forwards")) return false;
    auto mf = parse_uint(value, kMaxUint32);
    if (!mf) return bad("Bad Request - Malformed Max-Forwards");
    m_.max_forwards = static_cast<uint32_t>(*mf);
    return true;
  }
  if (iequals(name, "Content-Type")) {
    if (!once(kSeenContentType, "Bad Request - Multiple Content-Type")) return false;
    if (!valid_content_type(value)) return bad("Bad Request - Malformed Content-Type");
    m_.content_type = value;
    return true;
  }
  if (iequals(name, "Content-Length")) {
    if (!once(kSeenContentLength, "Bad Request - Multiple Content-Length")) return false;
    auto cl = parse_uint(value, kMaxUint32);  // a sign makes it malformed (RFC 4475 ncl)
    if (!cl) return bad("Bad Request - Malformed Content-Length");
    content_length_ = static_cast<size_t>(*cl);
    return true;
  }
  handled = false;
  return true;
}

bool Parser::dispatch(std::string_view name, std::string_view value) {
  bool handled = false;
  bool ok = dispatch_single(name, value, handled);
  if (handled) return ok;
  if (iequals(name, "Via")) return parse_via_list(value, m_.vias) || bad("Bad Request - Malformed Via");
  if (iequals(name, "Contact")) return parse_contact(value);
  bool route = iequals(name, "Route");
  if (route || iequals(name, "Record-Route")) {
    auto list = parse_name_addr_list(value);
    if (!list) return bad(route ? "Bad Request - Malformed Route" : "Bad Request - Malformed Record-Route");
    auto& dst = route ? m_.routes : m_.record_routes;
    for (auto& r : *list) dst.push_back(std::move(r));
    return true;
  }
  m_.headers.push_back(Header{std::string(name), std::string(value)});
  return true;
}

bool Parser::finish() {
  if (m_.vias.empty()) return bad("Bad Request - Missing Via");
  if (!(seen_ & kSeenFrom)) return bad("Bad Request - Missing From");
  if (!(seen_ & kSeenTo)) return bad("Bad Request - Missing To");
  if (!(seen_ & kSeenCallId)) return bad("Bad Request - Missing Call-ID");
  if (!(seen_ & kSeenCSeq)) return bad("Bad Request - Missing CSeq");
  if (m_.is_request && m_.cseq.method != m_.method) return bad("Bad Request - CSeq Method Mismatch");
  if (!terminated_) return bad("Bad Request - Missing Empty Line After Headers");
  size_t available = data_.size() - pos_;
  size_t length = content_length_.value_or(available);  // UDP without Content-Length: the rest (§18.3)
  if (length > available) return bad("Bad Request - Content-Length Exceeds Datagram");
  m_.body.assign(data_.substr(pos_, length));  // bytes after it are ignored (RFC 4475 dblreq)
  return true;
}

ParseResult Parser::run() {
  bool ok = false;
  if (data_.size() > limits_.max_message_size) {
    m_.is_request = !data_.starts_with("SIP/");
    fail(513, "Message Too Large");
  } else {
    ok = parse_start_line() && parse_headers() && finish();
  }
  if (ok) {
    result_.message = std::move(m_);
  } else {
    result_.drop = !m_.is_request;  // a malformed response cannot be answered (RFC 4475 scalarlg)
  }
  return std::move(result_);
}

}  // namespace

ParseResult parse_message(std::string_view datagram, const ParseLimits& limits) {
  return Parser(datagram, limits).run();
}

std::optional<int> parse_sipfrag_status(std::string_view body) {
  skip_lws(body);
  std::string_view line = body.substr(0, body.find_first_of("\r\n"));
  if (line.size() < 11 || !iequals(line.substr(0, 8), "SIP/2.0 ")) return std::nullopt;
  auto code = parse_uint(line.substr(8, 3), 699);
  if (!code || *code < 100 || (line.size() > 11 && line[11] != ' ')) return std::nullopt;
  return static_cast<int>(*code);
}

}  // namespace warmline::sip
