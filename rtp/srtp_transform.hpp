// SRTP for RTP packets (RFC 3711; RFC 7714 for AEAD_AES_128_GCM) on OpenSSL's libcrypto, one
// direction per object: an outbound transform protects what we send, an inbound one unprotects what
// the peer sends. rtp/srtp_session uses one of each for RTP (SRTCP stays on libsrtp there).
//
// Why our own: Debian's libsrtp2 runs its AES-ICM on NSS, which creates and frees a cipher context for
// every packet (bench/README.md, "Results — SRTP on the caller leg"). Here every context is keyed once,
// when the transform is created; a packet only sets a new IV (AES-CTR, AES-GCM) and copies two
// precomputed SHA-1 states (HMAC-SHA1): no allocation, lock or log line per packet
// (tests/alloc/srtp_alloc_test.cpp counts them).
//
// Suites: AES_CM_128_HMAC_SHA1_80 and _32 (RFC 3711 §4.1.1, §4.2; RFC 4568 §6.2) and AEAD_AES_128_GCM
// (RFC 7714 §8: 12-byte IV from salt, SSRC, ROC and SEQ; the RTP header is the AAD; a 16-byte tag).
// Key derivation rate 0 (rtp/srtp_kdf). The RTP header, extension included, is never encrypted.
// MKI: appended on protect; on unprotect a packet whose MKI differs is refused (kBadMki). The AES-CM
// trailer is MKI || tag (RFC 3711 §3.1); GCM's is tag || MKI, where libsrtp 2.5 puts and looks for it.
//
// Index and replay state per SSRC (rtp/srtp_replay): inbound, a stream is created only once a packet of
// a new SSRC has authenticated (like libsrtp); with all kStreams slots taken, the stream heard from
// longest ago gives its slot up (its replay window goes with it: an old packet of that SSRC could then
// be taken once more; refusing the new SSRC instead would cut the audio of a peer that changed SSRCs).
// Outbound, a fifth SSRC is refused (kError) rather than evicting one: a SSRC sent again after
// eviction would reuse keystream (and GCM nonces). Indexes already sent are refused too (kReplayed).
//
// Keys: the session keys live in the OpenSSL contexts and the HMAC states, wiped on destruction; the
// master key is read during create() only. Nothing here logs.
//
// Thread: one shard owns the transform; no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "rtp/srtp_session.hpp"

namespace warmline::rtp {

class SrtpTransform {
 public:
  enum class Direction { kOutbound, kInbound };

  // Null with `error` set (a static reason, never key material) for a bad key length, an MKI over
  // 128 bytes or an OpenSSL failure. `keys.lifetime` is not read here (SrtpSession counts it).
  static std::unique_ptr<SrtpTransform> create(const SrtpKeys& keys, Direction direction, std::string& error);
  ~SrtpTransform();
  SrtpTransform(const SrtpTransform&) = delete;
  SrtpTransform& operator=(const SrtpTransform&) = delete;

  // Bytes protect appends: the MKI and the tag.
  size_t overhead() const;

  // Outbound only. `buffer` holds an RTP packet in its first `length` bytes and room for overhead()
  // more; on kOk `length` is the SRTP length.
  SrtpResult protect(std::span<uint8_t> buffer, size_t& length);
  // Inbound only. The first `length` bytes of `buffer` are an SRTP packet; on kOk `length` is the RTP
  // packet's. On failure the bytes are unspecified.
  SrtpResult unprotect(std::span<uint8_t> buffer, size_t& length);

 private:
  struct State;
  explicit SrtpTransform(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace warmline::rtp
