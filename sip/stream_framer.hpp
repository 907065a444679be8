// Framing of SIP over a byte stream (RFC 3261 §18.3, RFC 5626 §4.4.1): cuts TCP/TLS bytes into whole
// messages by the blank line after the headers and the Content-Length, which a stream requires.
//
// Limits are enforced here, where the bytes enter: a message (headers and body) over max_message is
// an error with 513 before it is buffered whole; headers without Content-Length are an error with 400.
// An error is final: the framer keeps returning it, and the connection is answered and closed (the
// stream has lost its frame boundaries). A CRLFCRLF between messages is a keep-alive ping (answer:
// CRLF); a lone CRLF (the pong, or a stray empty line, §7.5) is skipped.
//
// Thread: plain data, one per connection, on the connection's thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace warmline::sip {

struct StreamEvent {
  enum class Kind { need_more, message, ping, error };
  Kind kind = Kind::need_more;
  // message: the whole message (headers and body). error: what was read of the offending message's
  // headers, enough to answer it statelessly (Via, From, To, Call-ID, CSeq), possibly cut short.
  std::string_view bytes;
  int status = 0;          // error: the answer (400, 513)
  std::string_view reason; // error: its reason phrase
};

class StreamFramer {
 public:
  // The same limit as a datagram's (ParseLimits::max_message_size).
  explicit StreamFramer(size_t max_message = 65536) : max_message_(max_message) {}

  // Adds bytes read from the stream. Views returned by next() before this call become invalid.
  void append(std::string_view bytes);
  // The next complete item. The view stays valid until the next append() or next().
  StreamEvent next();
  // Bytes held (a partial message).
  size_t buffered() const { return buffer_.size() - start_; }
  bool failed() const { return failed_.kind == StreamEvent::Kind::error; }

 private:
  StreamEvent fail(std::string_view bytes, int status, std::string_view reason);

  size_t max_message_;
  std::string buffer_;
  size_t start_ = 0;    // first unconsumed byte
  size_t scanned_ = 0;  // bytes after start_ already searched for the header end
  StreamEvent failed_;
};

// The value of the Content-Length (or compact `l`) header among `headers` (the header lines, without the
// start line's terminator ambiguity: everything up to but not including the blank line). -1 when
// absent, -2 when present but not a plain decimal number.
long long stream_content_length(std::string_view headers);

}  // namespace warmline::sip
