// One DNS answer as the resolver keeps it: the parsed records of one (name, type) question, or why
// there are none, and how long it may be cached. Built from c-ares' raw answer buffer.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "sip/resolve/records.hpp"

namespace warmline::sip {

// The query types RFC 3263 needs (RFC 1035, RFC 3596, RFC 2782, RFC 3403 type codes).
enum class RecordType : uint16_t { kA = 1, kAaaa = 28, kSrv = 33, kNaptr = 35 };
std::string_view to_string(RecordType type);

struct DnsAnswer {
  std::error_code error;            // empty: the records below are the answer
  std::vector<NaptrRecord> naptr;   // for kNaptr
  std::vector<SrvRecord> srv;       // for kSrv
  std::vector<std::string> addresses;  // for kA / kAaaa: IP literals, IPv6 without brackets
  // Seconds: the smallest TTL among the answer records. RFC 2181 §5.2 makes every record of an RRset
  // share one TTL and says to use the smallest when they differ; CNAMEs on the way count as well.
  uint32_t ttl = 0;
};

// ares_query's status and answer buffer -> DnsAnswer. A malformed answer is kServerFailure; an
// answer with no record of the asked type is kNoRecords. Never throws, whatever the buffer holds.
DnsAnswer parse_dns_answer(RecordType type, int ares_status, const unsigned char* abuf, int alen);

// c-ares status -> ResolveError (ARES_SUCCESS -> empty).
std::error_code error_for_ares_status(int status);

// The smallest TTL of the answer section, or false if the buffer is not a well-formed DNS message.
// TTLs with the top bit set read as 0 (RFC 2181 §8).
bool min_answer_ttl(const unsigned char* abuf, int alen, uint32_t& ttl);

// A failure that ends the whole lookup at once: no server answered, so asking the next question of
// the same servers would only wait again. Other failures (NXDOMAIN, NODATA, SERVFAIL on a NAPTR or
// SRV question) let RFC 3263 go on to its next step.
bool is_fatal_dns_error(const std::error_code& error);

}  // namespace warmline::sip
