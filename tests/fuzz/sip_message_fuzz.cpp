// libFuzzer target: the SIP message parser and serializer (sip/parser.cpp, sip/serializer.cpp). Every
// input is one datagram for parse_message. What parses must survive the round trip: serialize, parse
// again, and the second message must equal the first field by field (and serialize to the same bytes).
// Also parse_sipfrag_status on the same bytes. Build and run: tests/fuzz/README.md; corpus/sip_message/
// holds the RFC 4475 torture messages of tests/data/rfc4475 (byte-exact copies) and the findings.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "tests/fuzz/fuzz_require.hpp"
#include "tests/fuzz/sip_same.hpp"

namespace {

using namespace warmline::sip;
using warmline::fuzz::require;
using warmline::fuzz::same;

bool same(const NameAddr& a, const NameAddr& b) {
  return a.display == b.display && same(a.uri, b.uri) && same(a.params, b.params);
}

bool same(const std::vector<NameAddr>& a, const std::vector<NameAddr>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

void require_same(const Message& a, const Message& b) {
  require(a.is_request == b.is_request && a.method == b.method && a.status_code == b.status_code &&
              a.reason == b.reason,
          "round trip changed the start line");
  require(same(a.request_uri, b.request_uri), "round trip changed the Request-URI");
  require(a.vias.size() == b.vias.size(), "round trip changed the number of Vias");
  for (size_t i = 0; i < a.vias.size(); ++i) {
    const Via& x = a.vias[i];
    const Via& y = b.vias[i];
    require(x.transport == y.transport && x.host == y.host && x.port == y.port && same(x.params, y.params),
            "round trip changed a Via");
  }
  require(same(a.from, b.from), "round trip changed From");
  require(same(a.to, b.to), "round trip changed To");
  require(a.call_id == b.call_id, "round trip changed Call-ID");
  require(a.cseq.number == b.cseq.number && a.cseq.method == b.cseq.method, "round trip changed CSeq");
  require(a.max_forwards == b.max_forwards, "round trip changed Max-Forwards");
  require(same(a.contacts, b.contacts) && a.contact_star == b.contact_star, "round trip changed Contact");
  require(same(a.routes, b.routes), "round trip changed Route");
  require(same(a.record_routes, b.record_routes), "round trip changed Record-Route");
  require(a.content_type == b.content_type, "round trip changed Content-Type");
  require(a.headers.size() == b.headers.size(), "round trip changed the number of other headers");
  for (size_t i = 0; i < a.headers.size(); ++i) {
    require(a.headers[i].name == b.headers[i].name && a.headers[i].value == b.headers[i].value,
            "round trip changed a header");
  }
  require(a.body == b.body, "round trip changed the body");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  (void)parse_sipfrag_status(datagram);
  const ParseResult first = parse_message(datagram);
  if (!first.ok()) {
    require(first.status == 400 || first.status == 505 || first.status == 513 || first.drop,
            "a refused request without a 400/505/513 answer");
    require(first.drop || !first.reason.empty(), "a refusal without a reason phrase");
    return 0;
  }
  const std::string wire = serialize(*first.message);
  // No size limit on the second parse: expanded compact names may make the message longer.
  const ParseResult second =
      parse_message(wire, ParseLimits{.max_message_size = std::numeric_limits<size_t>::max()});
  if (!second.ok()) {
    std::fprintf(stderr, "the re-parse answers %d %s to:\n", second.status, second.reason.c_str());
    std::fwrite(wire.data(), 1, wire.size(), stderr);
  }
  require(second.ok(), "a serialized message does not parse again");
  require_same(*first.message, *second.message);
  require(serialize(*second.message) == wire, "serializing the re-parsed message gives other bytes");
  return 0;
}
