#include "sip/resolve/dns_answer.hpp"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>

#include <array>

namespace warmline::sip {
namespace {

constexpr size_t kHeaderSize = 12;

uint16_t read16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t read32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Position after the (possibly compressed) name at `pos`, or 0 if it runs off the buffer.
size_t skip_name(const unsigned char* buf, size_t len, size_t pos) {
  for (size_t labels = 0; labels < 128; ++labels) {  // a name has at most 127 labels
    if (pos >= len) return 0;
    const unsigned char c = buf[pos];
    if (c == 0) return pos + 1;
    if ((c & 0xC0) == 0xC0) return pos + 2 <= len ? pos + 2 : 0;  // a pointer ends the name
    if ((c & 0xC0) != 0) return 0;                                // reserved label types
    pos += 1 + c;
  }
  return 0;
}

std::string text(const unsigned char* s) { return s == nullptr ? std::string() : reinterpret_cast<const char*>(s); }

std::error_code parse_naptr(const unsigned char* abuf, int alen, DnsAnswer& out) {
  ares_naptr_reply* list = nullptr;
  const int status = ares_parse_naptr_reply(abuf, alen, &list);
  if (status != ARES_SUCCESS) return error_for_ares_status(status);
  for (const ares_naptr_reply* r = list; r != nullptr; r = r->next) {
    out.naptr.push_back(NaptrRecord{r->order, r->preference, text(r->flags), text(r->service), text(r->regexp),
                                    r->replacement == nullptr ? std::string() : std::string(r->replacement)});
  }
  ares_free_data(list);
  return {};
}

std::error_code parse_srv(const unsigned char* abuf, int alen, DnsAnswer& out) {
  ares_srv_reply* list = nullptr;
  const int status = ares_parse_srv_reply(abuf, alen, &list);
  if (status != ARES_SUCCESS) return error_for_ares_status(status);
  for (const ares_srv_reply* r = list; r != nullptr; r = r->next)
    out.srv.push_back(SrvRecord{r->priority, r->weight, r->port, r->host == nullptr ? "." : r->host});
  ares_free_data(list);
  return {};
}

std::error_code parse_addresses(RecordType type, const unsigned char* abuf, int alen, DnsAnswer& out) {
  hostent* host = nullptr;
  // The TTL arrays are required by the API; the TTL comes from min_answer_ttl, the addresses from
  // the hostent, which holds all of them however many there are.
  std::array<ares_addrttl, 8> ttls4{};
  std::array<ares_addr6ttl, 8> ttls6{};
  int count = 8;
  const int status = type == RecordType::kA ? ares_parse_a_reply(abuf, alen, &host, ttls4.data(), &count)
                                            : ares_parse_aaaa_reply(abuf, alen, &host, ttls6.data(), &count);
  if (status != ARES_SUCCESS) return error_for_ares_status(status);
  const int family = type == RecordType::kA ? AF_INET : AF_INET6;
  if (host != nullptr && host->h_addrtype == family) {
    for (char** a = host->h_addr_list; a != nullptr && *a != nullptr; ++a) {
      char buf[INET6_ADDRSTRLEN];
      if (inet_ntop(family, *a, buf, sizeof buf) != nullptr) out.addresses.emplace_back(buf);
    }
  }
  if (host != nullptr) ares_free_hostent(host);
  return {};
}

}  // namespace

std::string_view to_string(RecordType type) {
  switch (type) {
    case RecordType::kA: return "A";
    case RecordType::kAaaa: return "AAAA";
    case RecordType::kSrv: return "SRV";
    case RecordType::kNaptr: return "NAPTR";
  }
  return "?";
}

std::error_code error_for_ares_status(int status) {
  switch (status) {
    case ARES_SUCCESS: return {};
    case ARES_ENODATA: return ResolveError::kNoRecords;
    case ARES_ENOTFOUND: return ResolveError::kNoSuchName;
    case ARES_ETIMEOUT: return ResolveError::kTimeout;
    case ARES_ECONNREFUSED: return ResolveError::kServerUnreachable;
    case ARES_EBADNAME:
    case ARES_EBADQUERY: return ResolveError::kInvalidTarget;
    default: return ResolveError::kServerFailure;  // SERVFAIL, REFUSED, NOTIMP, FORMERR, bad answer, ...
  }
}

bool is_fatal_dns_error(const std::error_code& error) {
  return error == ResolveError::kTimeout || error == ResolveError::kServerUnreachable;
}

bool min_answer_ttl(const unsigned char* abuf, int alen, uint32_t& ttl) {
  if (abuf == nullptr || alen < static_cast<int>(kHeaderSize)) return false;
  const size_t len = static_cast<size_t>(alen);
  const uint16_t questions = read16(abuf + 4);
  const uint16_t answers = read16(abuf + 6);
  size_t pos = kHeaderSize;
  for (uint16_t i = 0; i < questions; ++i) {
    pos = skip_name(abuf, len, pos);
    if (pos == 0 || pos + 4 > len) return false;
    pos += 4;  // QTYPE, QCLASS
  }
  uint32_t smallest = UINT32_MAX;
  for (uint16_t i = 0; i < answers; ++i) {
    pos = skip_name(abuf, len, pos);
    if (pos == 0 || pos + 10 > len) return false;
    uint32_t record_ttl = read32(abuf + pos + 4);
    if (record_ttl & 0x80000000u) record_ttl = 0;
    smallest = std::min(smallest, record_ttl);
    pos += 10 + read16(abuf + pos + 8);
    if (pos > len) return false;
  }
  ttl = answers == 0 ? 0 : smallest;
  return true;
}

DnsAnswer parse_dns_answer(RecordType type, int ares_status, const unsigned char* abuf, int alen) {
  DnsAnswer out;
  out.error = error_for_ares_status(ares_status);
  if (out.error) return out;
  if (!min_answer_ttl(abuf, alen, out.ttl)) {
    out.error = ResolveError::kServerFailure;
    return out;
  }
  switch (type) {
    case RecordType::kNaptr: out.error = parse_naptr(abuf, alen, out); break;
    case RecordType::kSrv: out.error = parse_srv(abuf, alen, out); break;
    case RecordType::kA:
    case RecordType::kAaaa: out.error = parse_addresses(type, abuf, alen, out); break;
  }
  if (!out.error && out.naptr.empty() && out.srv.empty() && out.addresses.empty())
    out.error = ResolveError::kNoRecords;
  if (out.error) {
    out.naptr.clear();
    out.srv.clear();
    out.addresses.clear();
  }
  return out;
}

}  // namespace warmline::sip
