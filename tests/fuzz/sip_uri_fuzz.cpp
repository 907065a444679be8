// libFuzzer target: URIs, name-addrs and Via values (sip/uri.cpp, sip/name_addr_via.cpp). Every input
// goes to parse_uri, parse_name_addr, parse_name_addr_list, parse_via_list and uri_unescape. What
// parses must print (to_string, the serializer's form) as text that parses to the same value, which
// prints the same again; a URI must also equal itself under RFC 3261 §19.1.4 (uri_equal).
// Build and run: tests/fuzz/README.md; seeds and findings in corpus/sip_uri/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/uri.hpp"
#include "tests/fuzz/fuzz_require.hpp"
#include "tests/fuzz/sip_same.hpp"

namespace {

using namespace warmline::sip;
using warmline::fuzz::require;
using warmline::fuzz::same;

void show(const char* what, const std::string& text) {
  std::fprintf(stderr, "%s: ", what);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fputc('\n', stderr);
}

void check_uri(const Uri& uri) {
  require(uri_equal(uri, uri), "a URI is not equal to itself");
  const std::string text = uri.to_string();
  const auto again = parse_uri(text);
  if (!again) show("printed URI", text);
  require(again.has_value(), "a printed URI does not parse");
  require(same(uri, *again), "a printed URI parses to another URI");
  require(uri_equal(uri, *again), "a printed URI is not uri_equal to the URI");
  require(again->to_string() == text, "a printed URI prints differently the second time");
}

void check_name_addr(const NameAddr& addr) {
  const std::string text = addr.to_string();
  const auto again = parse_name_addr(text);
  if (!again) show("printed name-addr", text);
  require(again.has_value(), "a printed name-addr does not parse");
  require(again->display == addr.display && same(again->uri, addr.uri) && same(again->params, addr.params),
          "a printed name-addr parses to another name-addr");
  require(again->to_string() == text, "a printed name-addr prints differently the second time");
}

void check_via(const Via& via) {
  const std::string text = via.to_string();
  std::vector<Via> again;
  const bool ok = parse_via_list(text, again);
  if (!ok) show("printed Via", text);
  require(ok && again.size() == 1, "a printed Via does not parse as one Via");
  require(again[0].transport == via.transport && again[0].host == via.host && again[0].port == via.port &&
              same(again[0].params, via.params),
          "a printed Via parses to another Via");
  require(again[0].to_string() == text, "a printed Via prints differently the second time");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto uri = parse_uri(text)) check_uri(*uri);
  if (const auto addr = parse_name_addr(text)) {
    check_name_addr(*addr);
    check_uri(addr->uri);
  }
  if (const auto list = parse_name_addr_list(text)) {
    require(!list->empty(), "an empty name-addr list parsed");
    for (const NameAddr& addr : *list) check_name_addr(addr);
  }
  std::vector<Via> vias;
  if (parse_via_list(text, vias)) {
    require(!vias.empty(), "a Via value without a Via parsed");
    for (const Via& via : vias) check_via(via);
  }
  require(uri_unescape(text).size() <= text.size(), "unescaping made the text longer");
  return 0;
}
