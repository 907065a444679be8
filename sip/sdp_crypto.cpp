// The SDP a=crypto attribute (RFC 4568 §9.1 grammar, §6.1 SRTP key parameters) and SDES selection.
#include "sip/sdp_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <charconv>

namespace warmline::sip {
namespace {

constexpr uint32_t kMaxTag = 999999999;     // tag = 1*9DIGIT
constexpr uint32_t kMaxMkiLength = 128;     // mki-length = 1*3DIGIT, 1..128 (§6.1)
constexpr unsigned kMaxLifetimeLog2 = 48;   // RFC 3711 §9.2: at most 2^48 SRTP packets per master key
constexpr uint32_t kMinReplayWindow = 64;   // RFC 3711 §3.3.2; libsrtp's default window is 128

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || text.front() == '+' || text.front() == '-') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// Words separated by runs of spaces or tabs (1*WSP).
std::vector<std::string_view> split_wsp(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 4648 §4 alphabet; the '=' padding may be there or not (peers differ), but only at the end and
// never more than the length calls for. Returns the decoded length, or nullopt (bad input, too long).
std::optional<size_t> decode_key_base64(std::string_view in, std::span<uint8_t> out) {
  size_t pad = 0;
  while (!in.empty() && in.back() == '=' && pad < 2) in.remove_suffix(1), ++pad;
  if (in.empty() || in.size() % 4 == 1) return std::nullopt;
  if (pad != 0 && (in.size() + pad) % 4 != 0) return std::nullopt;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : in) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == out.size()) return std::nullopt;
      out[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  const bool canonical = (acc & ((1u << bits) - 1)) == 0;  // the last character's unused bits are 0
  OPENSSL_cleanse(&acc, sizeof acc);
  if (!canonical) return std::nullopt;
  return n;
}

// "2^20" or a decimal count.
std::optional<uint64_t> parse_lifetime(std::string_view text) {
  uint64_t value = 0;
  if (text.starts_with("2^")) {
    unsigned log2 = 0;
    if (!parse_number(text.substr(2), log2) || log2 > 63) return std::nullopt;
    return uint64_t{1} << log2;
  }
  if (!parse_number(text, value)) return std::nullopt;
  return value;
}

std::optional<SdesMki> parse_mki(std::string_view text) {
  size_t colon = text.find(':');
  SdesMki mki;
  if (colon == std::string_view::npos || !parse_number(text.substr(0, colon), mki.value)) return std::nullopt;
  std::string_view length = text.substr(colon + 1);
  if (length.size() > 3 || !parse_number(length, mki.length) || mki.length == 0 || mki.length > kMaxMkiLength)
    return std::nullopt;
  if (mki.length < 8 && mki.value >> (8 * mki.length) != 0) return std::nullopt;  // value must fit
  return mki;
}

SdesParseResult fail(std::string why) { return {std::nullopt, std::move(why)}; }

// key-info = key-salt ["|" lifetime] ["|" mki] (RFC 4568 §6.1).
std::optional<std::string> parse_key_info(std::string_view info, SdesCrypto& c) {
  auto parts = split_on(info, '|');
  if (parts.size() > 3) return "too many '|' fields in the key parameters";
  std::array<uint8_t, SdesKey::kMaxLength + 3> buf{};
  auto n = decode_key_base64(parts[0], buf);
  if (!n) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return "the inline key is not valid base64 of at most " + std::to_string(SdesKey::kMaxLength) + " bytes";
  }
  c.key_salt = SdesKey(std::span<const uint8_t>(buf.data(), *n));
  OPENSSL_cleanse(buf.data(), buf.size());
  if (*n != key_salt_length(c.suite)) {
    return "the inline key has " + std::to_string(*n) + " bytes, " + std::string(to_string(c.suite)) +
           " needs " + std::to_string(key_salt_length(c.suite));
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.find(':') != std::string_view::npos) {
      if (c.mki) return "two MKI fields";
      c.mki = parse_mki(p);
      if (!c.mki) return "malformed MKI (want <value>:<length in bytes 1..128>)";
    } else {
      if (c.lifetime || c.mki) return "the lifetime must come once and before the MKI";
      c.lifetime = parse_lifetime(p);
      if (!c.lifetime || *c.lifetime == 0) return "malformed key lifetime";
    }
  }
  return std::nullopt;
}

std::string format_lifetime(uint64_t lifetime) {
  if (std::has_single_bit(lifetime)) return "2^" + std::to_string(std::countr_zero(lifetime));
  return std::to_string(lifetime);
}

}  // namespace

std::string_view to_string(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::kAesCm128HmacSha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case SrtpSuite::kAesCm128HmacSha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case SrtpSuite::kAeadAes128Gcm: return "AEAD_AES_128_GCM";
  }
  return "AES_CM_128_HMAC_SHA1_80";
}

std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name) {
  for (auto s : {SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32, SrtpSuite::kAeadAes128Gcm}) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

size_t key_salt_length(SrtpSuite suite) { return suite == SrtpSuite::kAeadAes128Gcm ? 16 + 12 : 16 + 14; }

SdesKey::SdesKey(std::span<const uint8_t> bytes) : size_(std::min(bytes.size(), kMaxLength)) {
  std::copy_n(bytes.begin(), size_, bytes_.begin());
}
SdesKey::SdesKey(const SdesKey& other) : bytes_(other.bytes_), size_(other.size_) {}
SdesKey& SdesKey::operator=(const SdesKey& other) {
  if (this != &other) {
    bytes_ = other.bytes_;
    size_ = other.size_;
  }
  return *this;
}
SdesKey::~SdesKey() { wipe(); }
void SdesKey::wipe() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
  size_ = 0;
}
bool SdesKey::operator==(const SdesKey& other) const {
  return size_ == other.size_ && CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), size_) == 0;
}

std::optional<SdesKey> SdesKey::random(size_t length) {
  if (length > kMaxLength) return std::nullopt;
  SdesKey key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(length)) != 1) return std::nullopt;
  key.size_ = length;
  return key;
}

std::vector<uint8_t> SdesMki::bytes() const {
  std::vector<uint8_t> out(length, 0);
  uint64_t v = value;
  for (size_t i = out.size(); i-- > 0 && v != 0; v >>= 8) out[i] = static_cast<uint8_t>(v & 0xff);
  return out;
}

SdesParseResult parse_crypto(std::string_view value) {
  auto words = split_wsp(value);
  if (words.size() < 3) return fail("a=crypto needs a tag, a crypto-suite and key parameters");
  SdesCrypto c;
  if (words[0].size() > 9 || !parse_number(words[0], c.tag) || c.tag > kMaxTag)
    return fail("a=crypto tag is not a number of 1 to 9 digits");
  auto suite = srtp_suite_from_name(words[1]);
  if (!suite) return fail("unsupported crypto-suite " + std::string(words[1].substr(0, 64)));
  c.suite = *suite;
  auto key_params = split_on(words[2], ';');
  if (key_params.size() != 1) return fail("more than one inline key (several MKIs) is not supported");
  std::string_view kp = key_params[0];
  if (!kp.starts_with("inline:")) return fail("key method is not \"inline\"");
  if (auto error = parse_key_info(kp.substr(7), c)) return fail(std::move(*error));
  for (size_t i = 3; i < words.size(); ++i) c.session_params.emplace_back(words[i]);
  return {std::move(c), {}};
}

std::string format_crypto(const SdesCrypto& crypto) {
  std::string out = std::to_string(crypto.tag) + " " + std::string(to_string(crypto.suite)) + " inline:";
  const size_t at = out.size();
  const size_t chars = (crypto.key_salt.size() + 2) / 3 * 4;
  out.resize(at + chars + 1);  // EVP_EncodeBlock writes a terminating NUL
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), crypto.key_salt.bytes().data(),
                  static_cast<int>(crypto.key_salt.size()));
  out.resize(at + chars);
  if (crypto.lifetime) out += "|" + format_lifetime(*crypto.lifetime);
  if (crypto.mki) out += "|" + std::to_string(crypto.mki->value) + ":" + std::to_string(crypto.mki->length);
  for (const auto& p : crypto.session_params) out += " " + p;
  return out;
}

std::optional<std::string> unusable_reason(const SdesCrypto& crypto) {
  if (crypto.lifetime && *crypto.lifetime > (uint64_t{1} << kMaxLifetimeLog2))
    return "key lifetime beyond 2^48 packets";
  for (const auto& p : crypto.session_params) {
    if (p == "FEC_ORDER=FEC_SRTP") continue;
    uint32_t window = 0;
    if (p.starts_with("WSH=") && parse_number(std::string_view(p).substr(4), window) && window >= kMinReplayWindow)
      continue;
    // The name only: FEC_KEY=inline:<key> carries key material.
    return "session parameter " + p.substr(0, std::min<size_t>(p.find('='), 32)) + " is not supported";
  }
  return std::nullopt;
}

SdesSelection select_crypto(std::span<const std::string> crypto_values, std::span<const SrtpSuite> supported) {
  constexpr size_t kMaxReasons = 4;  // a hostile offer's hundred lines make no hundred-part reason
  SdesSelection s;
  size_t refused = 0;
  for (const auto& value : crypto_values) {
    SdesParseResult parsed = parse_crypto(value);
    std::optional<std::string> why;
    if (!parsed.crypto) {
      why = parsed.error;
    } else if (std::find(supported.begin(), supported.end(), parsed.crypto->suite) == supported.end()) {
      why = std::string(to_string(parsed.crypto->suite)) + " is not enabled";
    } else {
      why = unusable_reason(*parsed.crypto);
    }
    if (why) {
      if (s.error.empty()) s.error = "no usable a=crypto line:";
      if (++refused <= kMaxReasons) s.error += " [" + *why + "]";
      else if (refused == kMaxReasons + 1) s.error += " ...";
      continue;
    }
    auto key = SdesKey::random(key_salt_length(parsed.crypto->suite));
    if (!key) return SdesSelection{std::nullopt, std::nullopt, "no random bytes for an SRTP key"};
    SdesCrypto ours;
    ours.tag = parsed.crypto->tag;
    ours.suite = parsed.crypto->suite;
    ours.key_salt = *key;
    // No session parameters: the ones we accept (FEC_ORDER=FEC_SRTP, WSH) need no echo (§6.3.5, §6.3.6).
    s.offered = std::move(parsed.crypto);
    s.answer = std::move(ours);
    s.error.clear();
    return s;
  }
  if (s.error.empty()) s.error = "no a=crypto line";
  return s;
}

std::optional<std::vector<SdesCrypto>> make_crypto_offer(std::span<const SrtpSuite> suites) {
  std::vector<SdesCrypto> out;
  uint32_t tag = 1;
  for (SrtpSuite suite : suites) {
    auto key = SdesKey::random(key_salt_length(suite));
    if (!key) return std::nullopt;
    SdesCrypto c;
    c.tag = tag++;
    c.suite = suite;
    c.key_salt = *key;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace warmline::sip
