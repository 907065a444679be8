// libFuzzer target: SIP framing over TCP/TLS (sip/stream_framer.cpp). Each input is a byte stream
// from a peer; it is framed twice, once in one read and once cut into reads whose sizes come from the
// input itself, and the two must give the same events (framing cannot depend on read boundaries). Every
// message must respect the limit and carry exactly the body its Content-Length announces; an error is
// final. The corpus is in corpus/stream_framer/ (tests/fuzz/README.md).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sip/stream_framer.hpp"

namespace {

constexpr size_t kLimit = 2048;  // small, so that the fuzzer reaches the 513 paths

struct Seen {
  warmline::sip::StreamEvent::Kind kind;
  std::string bytes;
  int status;
  bool operator==(const Seen&) const = default;
};

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "stream_framer_fuzz: %s\n", what);
  std::abort();
}

void drain(warmline::sip::StreamFramer& f, std::vector<Seen>& out) {
  using Kind = warmline::sip::StreamEvent::Kind;
  for (int i = 0; i < 100000; ++i) {
    warmline::sip::StreamEvent e = f.next();
    if (e.kind == Kind::need_more) return;
    if (e.kind == Kind::message) {
      check(e.bytes.size() <= kLimit, "a message over the limit");
      const size_t end = e.bytes.find("\r\n\r\n");
      check(end != std::string_view::npos, "a message without its header end");
      const long long length = warmline::sip::stream_content_length(e.bytes.substr(0, end + 2));
      check(length >= 0 && static_cast<size_t>(length) == e.bytes.size() - end - 4, "body size != Content-Length");
    }
    if (e.kind == Kind::error) {
      check(e.status == 400 || e.status == 513, "an error that is neither 400 nor 513");
      check(e.bytes.size() <= kLimit, "error bytes over the limit");
      check(f.next().kind == Kind::error, "an error that is not final");
      out.push_back(Seen{e.kind, std::string(e.bytes), e.status});
      return;
    }
    out.push_back(Seen{e.kind, std::string(e.bytes), e.status});
  }
  check(false, "more events than bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Seen> whole;
  {
    warmline::sip::StreamFramer f(kLimit);
    f.append(input);
    drain(f, whole);
  }
  std::vector<Seen> pieces;
  {
    warmline::sip::StreamFramer f(kLimit);
    size_t pos = 0;
    size_t step = size ? static_cast<unsigned char>(input[0]) % 17 + 1 : 1;
    while (pos < size && (pieces.empty() || pieces.back().kind != warmline::sip::StreamEvent::Kind::error)) {
      const size_t n = std::min(step, size - pos);
      f.append(input.substr(pos, n));
      pos += n;
      step = static_cast<unsigned char>(input[pos - 1]) % 17 + 1;
      drain(f, pieces);
    }
  }
  check(whole == pieces, "events depend on how the stream was cut into reads");
  return 0;
}
