// SRTP/SRTCP (RFC 3711) for one call leg: one outbound side (protects what we send, with the key our
// SDP carried) and one inbound side (unprotects what the peer sends, with its key; a replay window of
// 128 packets per SSRC). Suites of RFC 4568 §6.2 and RFC 7714 §14.2: AES_CM_128_HMAC_SHA1_80,
// AES_CM_128_HMAC_SHA1_32 (80-bit SRTCP tag, as RFC 4568 §6.2.2 says) and AEAD_AES_128_GCM.
// RTP goes through rtp/srtp_transform (ours, on OpenSSL's libcrypto: contexts keyed once, nothing
// allocated per packet; up to 4 SSRCs per direction, see there); RTCP through libsrtp2, whose packets
// are few (Debian builds it on NSS, which allocates per packet: too slow for 50 RTP packets a second
// per direction per call, bench/README.md).
//
// RTP packets are processed in place in the caller's buffer: no allocation, lock or log line per
// packet. A stream per new SSRC is created only once a packet from it has authenticated.
// A key lifetime (RFC 4568 §6.1) is honoured by refusing packets once that many went through a key.
// Keys: libsrtp and srtp_transform keep their own expanded copies and zero them when freed; the
// copies made here while building the contexts are wiped at once. Nothing here logs keys or packets.
//
// Thread: a session belongs to one shard; every method must be called there. Creation (libsrtp's one-
// time init included) is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace warmline::rtp {

enum class SrtpProfile { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32, kAeadAes128Gcm };

// The keying of one direction. The spans are read during create() only.
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80;
  std::span<const uint8_t> key_salt;  // master key || master salt: 30 bytes (AES_CM), 28 (GCM)
  std::span<const uint8_t> mki;       // the MKI in each packet (RFC 3711 §3.1), empty = none; <= 128 bytes
  uint64_t lifetime = 0;              // packets per key (RTP and RTCP counted apart); 0 = none of ours
};

// The suite of an SDES a=crypto line by its RFC name ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
// "AEAD_AES_128_GCM"); nullopt for any other. The name is the bridge between sip/ (which negotiates
// suites) and rtp/ (which builds the contexts), so neither folder includes the other.
std::optional<SrtpProfile> srtp_profile_from_name(std::string_view suite);

// The keys of one SDES-negotiated stream, both directions, as an offer/answer agreed on them. The spans
// are read during create_stream() only.
struct SrtpStreamKeys {
  std::string_view suite;                      // the RFC name of the suite both sides took
  std::span<const uint8_t> local_key_salt{};   // ours (our SDP's key): protects what we send
  std::span<const uint8_t> remote_key_salt{};  // the peer's (its SDP's key): unprotects what it sends
  std::span<const uint8_t> remote_mki{};       // the MKI the peer puts into its packets; empty = none
  uint64_t remote_lifetime = 0;                // the peer's key lifetime in packets; 0 = none of ours
};

enum class SrtpResult {
  kOk,
  kBufferTooSmall,  // protect: no room for the tag and MKI after the packet (see kMaxOverhead)
  kMalformed,       // too short or not an RTP/RTCP packet libsrtp can read
  kAuthFailed,      // tag mismatch: tampered, wrong key, or not for us
  kReplayed,        // seen already, or older than the replay window
  kBadMki,          // the packet's MKI is not the peer's
  kKeyExpired,      // the key's lifetime is used up (a rekey is needed)
  kError,           // any other libsrtp failure
};
std::string_view to_string(SrtpResult result);

class SrtpSession {
 public:
  // Bytes protect/protect_rtcp may add after the packet: the longest tag (16), SRTCP's index (4) and
  // the longest MKI (128). A buffer with this much room after the packet is always enough.
  static constexpr size_t kMaxOverhead = 16 + 4 + 128;

  // Null with `error` set (a static reason, never key material) when libsrtp refuses the keys.
  static std::unique_ptr<SrtpSession> create(const SrtpKeys& outbound, const SrtpKeys& inbound,
                                             std::string& error);
  // The session of a negotiated stream (the gateway's legs and warmline-load's callers alike): ours
  // protects, the peer's (with its MKI and key lifetime) unprotects. Null with `error` set for an
  // unknown suite or keys libsrtp refuses.
  static std::unique_ptr<SrtpSession> create_stream(const SrtpStreamKeys& keys, std::string& error);
  // libsrtp's one-time set-up (its cipher self-tests: tens of ms), which create() otherwise does on its
  // first call: a process calls this at start-up so that no shard pays it on a media tick. Idempotent,
  // any thread; false when libsrtp cannot be used.
  static bool initialize();
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // `buffer` holds an RTP (RTCP) packet in its first `length` bytes; on kOk `length` is the SRTP
  // (SRTCP) length. The rest of the buffer is room for the trailer.
  SrtpResult protect(std::span<uint8_t> buffer, size_t& length);
  SrtpResult protect_rtcp(std::span<uint8_t> buffer, size_t& length);
  // The first `length` bytes of `buffer` are an SRTP (SRTCP) packet; on kOk `length` is the plain
  // packet's length and the bytes before it the plain packet. On failure the bytes are unspecified.
  SrtpResult unprotect(std::span<uint8_t> buffer, size_t& length);
  SrtpResult unprotect_rtcp(std::span<uint8_t> buffer, size_t& length);

 private:
  struct Impl;
  explicit SrtpSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmline::rtp
