// SRTP per packet (rtp/srtp_session.hpp; RTP through rtp/srtp_transform on libcrypto since issue 11,
// libsrtp2 on NSS before): what one protect (outbound) and one unprotect
// (inbound) of a 20 ms G.711 packet (12 + 160 bytes) cost, per suite. An AI call with SRTP on the caller
// leg pays one of each per 20 ms on top of the plain path; `make load-srtp` measures the whole call.
// Each iteration protects a fresh sequence number (an index is never protected twice); unprotect gets
// the packets of a second session keyed the other way, so its replay window sees new indexes too.
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "rtp/packet.hpp"
#include "rtp/srtp_session.hpp"

namespace {

using warmline::rtp::SrtpResult;
using warmline::rtp::SrtpSession;

constexpr size_t kPacket = 12 + 160;
const char* const kSuites[] = {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM"};

std::vector<uint8_t> key(size_t n, uint8_t seed) {
  std::vector<uint8_t> k(n);
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<uint8_t>(seed + 37 * i);
  return k;
}

struct Pair {
  std::unique_ptr<SrtpSession> a, b;  // a protects with k1, b unprotects with k1 (and the other way)
};

Pair make_pair(const char* suite) {
  const size_t n = std::string(suite) == "AEAD_AES_128_GCM" ? 28 : 30;
  const auto k1 = key(n, 1), k2 = key(n, 2);
  std::string error;
  Pair p{SrtpSession::create_stream({.suite = suite, .local_key_salt = k1, .remote_key_salt = k2}, error),
         SrtpSession::create_stream({.suite = suite, .local_key_salt = k2, .remote_key_salt = k1}, error)};
  if (!p.a || !p.b) std::abort();
  return p;
}

void write_packet(std::span<uint8_t> buf, uint16_t seq) {
  warmline::rtp::write_rtp_header(buf, {.payload_type = 0, .sequence = seq, .timestamp = seq * 160u, .ssrc = 0x1234});
  std::fill(buf.begin() + 12, buf.begin() + kPacket, 0x55);
}

// One packet per iteration with a fresh sequence number: protected by one session, and with `unprotect`
// unprotected by its peer too.
void run(benchmark::State& state, bool unprotect) {
  const char* suite = kSuites[state.range(0)];
  state.SetLabel(suite);
  Pair p = make_pair(suite);
  std::array<uint8_t, kPacket + SrtpSession::kMaxOverhead> buf{};
  uint16_t seq = 0;
  for (auto _ : state) {
    write_packet(buf, seq++);
    size_t len = kPacket;
    if (p.a->protect(buf, len) != SrtpResult::kOk || (unprotect && p.b->unprotect(buf, len) != SrtpResult::kOk))
      state.SkipWithError("SRTP failed");
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SrtpProtect(benchmark::State& state) { run(state, false); }
BENCHMARK(BM_SrtpProtect)->DenseRange(0, 2);

// The unprotect's share is the difference with BM_SrtpProtect.
void BM_SrtpProtectThenUnprotect(benchmark::State& state) { run(state, true); }
BENCHMARK(BM_SrtpProtectThenUnprotect)->DenseRange(0, 2);

}  // namespace
