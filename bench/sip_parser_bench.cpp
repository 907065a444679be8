// parse_message() and serialize_to() on a typical INVITE with SDP, a 200 OK and a BYE. Reported time is
// per message; items_per_second is messages per second per core.
#include <benchmark/benchmark.h>

#include <string>

#include "sip/parser.hpp"
#include "sip/serializer.hpp"

namespace {

const std::string kInvite =
    "INVITE sip:+27115550100@gw.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-524287-1---2c4e4f1a8c;rport\r\n"
    "Max-Forwards: 69\r\n"
    "Record-Route: <sip:198.51.100.7;lr;ftag=as5a6b7c8d>\r\n"
    "From: \"Caller Name\" <sip:+14155550123@carrier.example.com>;tag=as5a6b7c8d\r\n"
    "To: <sip:+27115550100@gw.example.net>\r\n"
    "Contact: <sip:+14155550123@198.51.100.7:5060;transport=udp>\r\n"
    "Call-ID: 3c26700b4b5b4f5e8a3c4b2e1d0f9a8b@198.51.100.7\r\n"
    "CSeq: 102 INVITE\r\n"
    "User-Agent: CarrierSBC 4.2\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO\r\n"
    "Supported: replaces, timer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "P-Asserted-Identity: <sip:+14155550123@carrier.example.com>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 230\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 1234567890 1234567890 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

const std::string kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-74bf9;received=203.0.113.5;rport=5060\r\n"
    "From: <sip:agent@gw.example.net>;tag=9fxced76sl\r\n"
    "To: <sip:101@pbx.example.com>;tag=8321234356\r\n"
    "Call-ID: 4a8b3c2d1e0f@203.0.113.5\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:101@192.0.2.40:5060>\r\n"
    "Record-Route: <sip:pbx.example.com;lr>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string kBye =
    "BYE sip:101@192.0.2.40:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-74bfa\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:pbx.example.com;lr>\r\n"
    "From: <sip:agent@gw.example.net>;tag=9fxced76sl\r\n"
    "To: <sip:101@pbx.example.com>;tag=8321234356\r\n"
    "Call-ID: 4a8b3c2d1e0f@203.0.113.5\r\n"
    "CSeq: 2 BYE\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string& message(int64_t which) {
  switch (which) {
    case 0: return kInvite;
    case 1: return kOk;
    default: return kBye;
  }
}

void BM_Parse(benchmark::State& state) {
  const std::string& raw = message(state.range(0));
  for (auto _ : state) {
    auto r = warmline::sip::parse_message(raw);
    if (!r.ok()) state.SkipWithError(r.reason.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(raw.size()));
}

void BM_Serialize(benchmark::State& state) {
  auto parsed = warmline::sip::parse_message(message(state.range(0)));
  if (!parsed.ok()) {
    state.SkipWithError(parsed.reason.c_str());
    return;
  }
  std::string buffer;  // reused, as a transport's send buffer would be
  for (auto _ : state) {
    buffer.clear();
    warmline::sip::serialize_to(*parsed.message, buffer);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Arg: 0 = INVITE with SDP, 1 = 200 OK, 2 = BYE.
BENCHMARK(BM_Parse)->ArgName("msg")->DenseRange(0, 2);
BENCHMARK(BM_Serialize)->ArgName("msg")->DenseRange(0, 2);

}  // namespace
