// libFuzzer target: DNS answers handed to the RFC 3263 resolver (sip/resolve/dns_answer.cpp). Every
// input is the answer buffer c-ares hands over, parsed once for each question type the resolver asks
// (NAPTR, SRV, A, AAAA). An answer either carries records of that type and no error, or an error and
// no records; addresses are IP literals of the asked family; TTLs read with the top bit set are 0.
// Build and run: tests/fuzz/README.md; seeds (answers of each type, built by hand) in corpus/sip_dns/.
#include <arpa/inet.h>
#include <ares.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sip/resolve/dns_answer.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::sip;
using warmline::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65535) return 0;  // a DNS message is at most 64 KiB (c-ares hands an int length)
  const int length = static_cast<int>(size);
  uint32_t ttl = 0;
  const bool well_formed = min_answer_ttl(data, length, ttl);
  require(!well_formed || ttl <= 0x7fffffffu, "a TTL with the top bit set was not read as 0");
  for (RecordType type : {RecordType::kNaptr, RecordType::kSrv, RecordType::kA, RecordType::kAaaa}) {
    const DnsAnswer answer = parse_dns_answer(type, ARES_SUCCESS, data, length);
    const size_t records = answer.naptr.size() + answer.srv.size() + answer.addresses.size();
    if (answer.error) {
      require(records == 0, "an answer with an error and records");
      continue;
    }
    require(well_formed, "records out of a buffer that is not a DNS message");
    require(records > 0, "an answer without error and without records");
    require(answer.ttl == ttl, "the answer's TTL is not the smallest of its records");
    require(type == RecordType::kNaptr || answer.naptr.empty(), "NAPTR records for another question");
    require(type == RecordType::kSrv || answer.srv.empty(), "SRV records for another question");
    for (const std::string& address : answer.addresses) {
      unsigned char raw[16];
      const int family = type == RecordType::kA ? AF_INET : AF_INET6;
      require(inet_pton(family, address.c_str(), raw) == 1, "an address that is not an IP literal of its family");
    }
  }
  return 0;
}
