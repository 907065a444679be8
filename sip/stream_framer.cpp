#include "sip/stream_framer.hpp"

#include "sip/message.hpp"  // iequals

namespace warmline::sip {

namespace {

constexpr std::string_view kHeaderEnd = "\r\n\r\n";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

long long stream_content_length(std::string_view headers) {
  long long found = -1;
  size_t pos = headers.find("\r\n");  // skip the start line
  while (pos != std::string_view::npos) {
    size_t begin = pos + 2;
    size_t end = headers.find("\r\n", begin);
    std::string_view line = headers.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    pos = end;
    if (line.empty() || line.front() == ' ' || line.front() == '\t') continue;  // a folded continuation
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the parser answers a broken line later
    std::string_view name = trim(line.substr(0, colon));
    if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
    std::string_view value = trim(line.substr(colon + 1));
    if (value.empty() || value.size() > 10) return -2;
    long long n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return -2;
      n = n * 10 + (c - '0');
    }
    // Two different lengths leave the frame boundary ambiguous (a smuggling vector): refused.
    if (found >= 0 && found != n) return -2;
    found = n;
  }
  return found;
}

void StreamFramer::append(std::string_view bytes) {
  if (failed()) return;
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

StreamEvent StreamFramer::fail(std::string_view bytes, int status, std::string_view reason) {
  // Keep the offending bytes: the returned view points into buffer_, which no longer changes.
  failed_ = StreamEvent{StreamEvent::Kind::error, bytes, status, reason};
  return failed_;
}

StreamEvent StreamFramer::next() {
  if (failed()) return failed_;
  std::string_view rest(buffer_.data() + start_, buffer_.size() - start_);
  // Between messages: RFC 5626 §4.4.1 keep-alives (CRLFCRLF ping, CRLF pong) and §7.5 stray CRLFs.
  while (rest.starts_with("\r\n")) {
    if (rest.starts_with(kHeaderEnd)) {
      start_ += 4;
      scanned_ = 0;
      return StreamEvent{StreamEvent::Kind::ping, {}, 0, {}};
    }
    if (rest.size() < 4 && std::string_view(kHeaderEnd).starts_with(rest)) return {};  // maybe a ping
    start_ += 2;
    scanned_ = 0;
    rest.remove_prefix(2);
  }
  if (rest.empty()) return {};
  // The search resumes where the last one stopped (less a partial CRLFCRLF): a peer that drips its
  // headers byte by byte costs linear time, not quadratic.
  const size_t header_end = rest.find(kHeaderEnd, scanned_ > 3 ? scanned_ - 3 : 0);
  scanned_ = header_end == std::string_view::npos ? rest.size() : header_end;
  const size_t head_size = header_end == std::string_view::npos ? 0 : header_end + kHeaderEnd.size();
  if (header_end == std::string_view::npos || head_size > max_message_) {
    // The first max_message bytes are what an answer can be built from, however the bytes arrived.
    if (rest.size() > max_message_ || head_size > max_message_)
      return fail(rest.substr(0, max_message_), 513, "Message Too Large");
    return {};
  }
  std::string_view headers = rest.substr(0, header_end + 2);
  const long long length = stream_content_length(headers);
  if (length == -1) return fail(headers, 400, "Bad Request - Missing Content-Length");
  if (length < 0) return fail(headers, 400, "Bad Request - Malformed Content-Length");
  if (static_cast<unsigned long long>(length) > max_message_ - head_size) return fail(headers, 513, "Message Too Large");
  const size_t total = head_size + static_cast<size_t>(length);
  if (rest.size() < total) return {};
  start_ += total;
  scanned_ = 0;
  return StreamEvent{StreamEvent::Kind::message, rest.substr(0, total), 0, {}};
}

}  // namespace warmline::sip
