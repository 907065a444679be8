// SRTP/SRTCP (RFC 3711) for one call leg on libsrtp2: one outbound context (protects what we send,
// with the key our SDP carried) and one inbound context (unprotects what the peer sends, with its key,
// libsrtp's replay window of 128 packets per SSRC). Suites of RFC 4568 §6.2 and RFC 7714 §14.2:
// AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (80-bit SRTCP tag, as RFC 4568 §6.2.2 says) and
// AEAD_AES_128_GCM.
//
// Packets are processed in place in the caller's buffer: no allocation, lock or log line per packet.
// libsrtp allocates one stream per new SSRC, and only once a packet from it has authenticated.
// A key lifetime (RFC 4568 §6.1) is honoured by refusing packets once that many went through a key.
// Keys: libsrtp keeps its own expanded copies and zeroes them when the contexts are freed; the copies
// made here while building the contexts are wiped at once. Nothing here logs keys or packets.
//
// Thread: a session belongs to one shard; every method must be called there. Creation (libsrtp's one-
// time init included) is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace warmline::rtp {

enum class SrtpProfile { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32, kAeadAes128Gcm };

// The keying of one direction. The spans are read during create() only.
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAesCm128HmacSha1_80;
  std::span<const uint8_t> key_salt;  // master key || master salt: 30 bytes (AES_CM), 28 (GCM)
  std::span<const uint8_t> mki;       // the MKI in each packet (RFC 3711 §3.1), empty = none; <= 128 bytes
  uint64_t lifetime = 0;              // packets per key (RTP and RTCP counted apart); 0 = libsrtp's limit
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
