// SDES keying for SRTP in SDP (RFC 4568): the a=crypto attribute — parse, write — and the choice of a
// crypto line in an offer. Suites: AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 §6.2), AEAD_AES_128_GCM
// (RFC 7714 §12).
//
// Key material is secret: SdesKey wipes its bytes when destroyed, and nothing here puts a key into an
// error string. An a=crypto line itself carries the key in clear text, so an SDP that holds one must
// only travel over TLS and must never be logged whole.
//
// Thread: pure functions and values; usable from any shard.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::sip {

enum class SrtpSuite { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32, kAeadAes128Gcm };

std::string_view to_string(SrtpSuite suite);                    // the RFC name
std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name);  // exact, case-sensitive (§9.2)
// Master key + master salt bytes of a suite: 16 + 14 for AES_CM, 16 + 12 for AES-128-GCM.
size_t key_salt_length(SrtpSuite suite);

// A master key and salt, concatenated. Wiped on destruction; copies are wiped too.
class SdesKey {
 public:
  static constexpr size_t kMaxLength = 46;  // 32 + 14, room for the AES-256 suites later

  SdesKey() = default;
  explicit SdesKey(std::span<const uint8_t> bytes);  // truncated to kMaxLength
  SdesKey(const SdesKey& other);
  SdesKey& operator=(const SdesKey& other);
  ~SdesKey();

  std::span<const uint8_t> bytes() const { return {bytes_.data(), size_}; }
  size_t size() const { return size_; }
  bool operator==(const SdesKey& other) const;

  // `length` fresh bytes from the system's CSPRNG; nullopt when it cannot give them.
  static std::optional<SdesKey> random(size_t length);

 private:
  void wipe();
  std::array<uint8_t, kMaxLength> bytes_{};
  size_t size_ = 0;
};

// RFC 4568 §6.1 key-info "|mki-value:mki-length": the master key identifier a sender puts into each
// packet; value as a number, length in bytes (1..128).
struct SdesMki {
  uint64_t value = 0;
  uint32_t length = 0;
  bool operator==(const SdesMki&) const = default;
  // The MKI as it appears in packets: `length` bytes, big-endian.
  std::vector<uint8_t> bytes() const;
};

// One a=crypto attribute (RFC 4568 §9.1) with one inline key.
struct SdesCrypto {
  uint32_t tag = 1;                 // 1..999999999
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  SdesKey key_salt;                 // key_salt_length(suite) bytes
  std::optional<uint64_t> lifetime;  // in packets ("2^20" = 1048576)
  std::optional<SdesMki> mki;
  std::vector<std::string> session_params;  // as written ("FEC_ORDER=FEC_SRTP", "UNENCRYPTED_SRTCP")
};

struct SdesParseResult {
  std::optional<SdesCrypto> crypto;  // set on success
  std::string error;                 // why not; never contains key material
};

// Parses the value of an a=crypto attribute (what follows "crypto:"). Strict: a wrong key length,
// bad base64, an out-of-range tag, lifetime or MKI length, or a key method other than "inline" is an
// error. More than one inline key (several MKIs) is refused: we keep one master key per direction.
// A suite we do not know is an error too; selection skips such lines.
SdesParseResult parse_crypto(std::string_view value);

// The attribute value, "1 AES_CM_128_HMAC_SHA1_80 inline:<base64>[|2^n][|v:l] [params]".
std::string format_crypto(const SdesCrypto& crypto);

// Why we cannot use a parsed crypto line, or nullopt when we can: a lifetime beyond the SRTP limit
// of 2^48 packets, or a session parameter we cannot honour (only FEC_ORDER=FEC_SRTP and WSH=<n> with
// n >= 64 are accepted: we do no FEC and libsrtp's replay window is at least that wide).
std::optional<std::string> unusable_reason(const SdesCrypto& crypto);

// RFC 4568 §7.1.1 / §7.1.2: the answerer takes the first usable crypto line of the offerer's list
// (in `supported`) and answers with the same tag and suite and its own fresh key. `error` says why
// none was taken (every line malformed, unsupported suite, parameters we cannot honour).
struct SdesSelection {
  std::optional<SdesCrypto> offered;  // the offerer's line we took: its key protects what it sends
  std::optional<SdesCrypto> answer;   // ours: the same tag and suite, a fresh key, no MKI, no lifetime
  std::string error;
};
SdesSelection select_crypto(std::span<const std::string> crypto_values, std::span<const SrtpSuite> supported);

// Fresh crypto lines for our own offer, one per suite in order, tags 1, 2, ...; nullopt when the
// random source fails.
std::optional<std::vector<SdesCrypto>> make_crypto_offer(std::span<const SrtpSuite> suites);

}  // namespace warmline::sip
