// SrtpSession: RTP through rtp/srtp_transform (ours, on libcrypto), RTCP through libsrtp2 (srtp2/srtp.h,
// https://github.com/cisco/libsrtp, API of 2.5): SRTCP is a packet every few seconds, and its keys and
// index are apart from SRTP's (RFC 3711 §4.3.2), so the two never share state.
#include "rtp/srtp_session.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <mutex>

#include "rtp/srtp_transform.hpp"

namespace warmline::rtp {
namespace {

constexpr size_t kRtpHeader = 12;
constexpr size_t kRtcpHeader = 8;
constexpr size_t kMaxKeySalt = 46;
constexpr unsigned long kReplayWindow = 128;  // libsrtp's default; RFC 3711 §3.3.2 asks for >= 64

static_assert(SrtpSession::kMaxOverhead >= SRTP_MAX_TRAILER_LEN + 4);

srtp_err_status_t init_once() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  return status;
}

size_t key_salt_length(SrtpProfile profile) { return profile == SrtpProfile::kAeadAes128Gcm ? 28 : 30; }

void set_crypto(srtp_policy_t& p, SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
      break;
    case SrtpProfile::kAesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);  // SRTCP keeps the 80-bit tag
      break;
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
      break;
  }
}

// One libsrtp context for one direction. Its key buffers live only during srtp_create and are wiped.
srtp_t make_context(const SrtpKeys& keys, bool outbound, std::string& error) {
  if (keys.key_salt.size() != key_salt_length(keys.profile)) return error = "SRTP key has the wrong length", nullptr;
  if (keys.mki.size() > SRTP_MAX_MKI_LEN) return error = "SRTP MKI longer than 128 bytes", nullptr;
  std::array<unsigned char, kMaxKeySalt> key{};
  std::array<unsigned char, SRTP_MAX_MKI_LEN> mki{};
  std::copy(keys.key_salt.begin(), keys.key_salt.end(), key.begin());
  std::copy(keys.mki.begin(), keys.mki.end(), mki.begin());
  srtp_master_key_t master{key.data(), mki.data(), static_cast<unsigned>(keys.mki.size())};
  srtp_master_key_t* masters[1] = {&master};

  srtp_policy_t policy{};
  set_crypto(policy, keys.profile);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  if (keys.mki.empty()) {
    policy.key = key.data();
  } else {
    policy.keys = masters;
    policy.num_master_keys = 1;
  }
  policy.window_size = kReplayWindow;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;

  srtp_t ctx = nullptr;
  srtp_err_status_t status = srtp_create(&ctx, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(&policy, sizeof policy);
  if (status != srtp_err_status_ok) {
    error = "libsrtp refused the SRTP policy (status " + std::to_string(static_cast<int>(status)) + ")";
    return nullptr;
  }
  return ctx;
}

SrtpResult map_status(srtp_err_status_t status) {
  switch (status) {
    case srtp_err_status_ok: return SrtpResult::kOk;
    case srtp_err_status_auth_fail: return SrtpResult::kAuthFailed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return SrtpResult::kReplayed;
    case srtp_err_status_bad_mki: return SrtpResult::kBadMki;
    case srtp_err_status_key_expired: return SrtpResult::kKeyExpired;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return SrtpResult::kMalformed;
    default: return SrtpResult::kError;
  }
}

// Packets through one key in one direction, RTP and RTCP apart (RFC 3711 §9.2 counts them apart too).
struct KeyUse {
  uint64_t lifetime = 0;  // 0 = no limit of ours
  uint64_t rtp = 0;
  uint64_t rtcp = 0;
  bool spent(uint64_t count) const { return lifetime != 0 && count >= lifetime; }
};

}  // namespace

struct SrtpSession::Impl {
  std::unique_ptr<SrtpTransform> rtp_outbound;
  std::unique_ptr<SrtpTransform> rtp_inbound;
  srtp_t outbound = nullptr;  // libsrtp: SRTCP only
  srtp_t inbound = nullptr;
  bool outbound_mki = false;
  bool inbound_mki = false;
  KeyUse sent;
  KeyUse received;

  ~Impl() {
    if (outbound) srtp_dealloc(outbound);
    if (inbound) srtp_dealloc(inbound);
  }
};

std::string_view to_string(SrtpResult result) {
  switch (result) {
    case SrtpResult::kOk: return "ok";
    case SrtpResult::kBufferTooSmall: return "buffer too small";
    case SrtpResult::kMalformed: return "malformed packet";
    case SrtpResult::kAuthFailed: return "authentication failed";
    case SrtpResult::kReplayed: return "replayed packet";
    case SrtpResult::kBadMki: return "unknown MKI";
    case SrtpResult::kKeyExpired: return "key lifetime used up";
    case SrtpResult::kError: return "SRTP error";
  }
  return "SRTP error";
}

std::unique_ptr<SrtpSession> SrtpSession::create(const SrtpKeys& outbound, const SrtpKeys& inbound,
                                                 std::string& error) {
  if (init_once() != srtp_err_status_ok) return error = "libsrtp failed to initialise", nullptr;
  auto impl = std::make_unique<Impl>();
  impl->outbound = make_context(outbound, true, error);
  if (!impl->outbound) return nullptr;
  impl->inbound = make_context(inbound, false, error);
  if (!impl->inbound) return nullptr;
  impl->rtp_outbound = SrtpTransform::create(outbound, SrtpTransform::Direction::kOutbound, error);
  if (!impl->rtp_outbound) return nullptr;
  impl->rtp_inbound = SrtpTransform::create(inbound, SrtpTransform::Direction::kInbound, error);
  if (!impl->rtp_inbound) return nullptr;
  impl->outbound_mki = !outbound.mki.empty();
  impl->inbound_mki = !inbound.mki.empty();
  impl->sent.lifetime = outbound.lifetime;
  impl->received.lifetime = inbound.lifetime;
  return std::unique_ptr<SrtpSession>(new SrtpSession(std::move(impl)));
}

std::optional<SrtpProfile> srtp_profile_from_name(std::string_view suite) {
  if (suite == "AES_CM_128_HMAC_SHA1_80") return SrtpProfile::kAesCm128HmacSha1_80;
  if (suite == "AES_CM_128_HMAC_SHA1_32") return SrtpProfile::kAesCm128HmacSha1_32;
  if (suite == "AEAD_AES_128_GCM") return SrtpProfile::kAeadAes128Gcm;
  return std::nullopt;
}

bool SrtpSession::initialize() { return init_once() == srtp_err_status_ok; }

std::unique_ptr<SrtpSession> SrtpSession::create_stream(const SrtpStreamKeys& keys, std::string& error) {
  const auto profile = srtp_profile_from_name(keys.suite);
  if (!profile) return error = "unsupported SRTP suite", nullptr;
  SrtpKeys outbound;
  outbound.profile = *profile;
  outbound.key_salt = keys.local_key_salt;
  SrtpKeys inbound;
  inbound.profile = *profile;
  inbound.key_salt = keys.remote_key_salt;
  inbound.mki = keys.remote_mki;
  inbound.lifetime = keys.remote_lifetime;
  return create(outbound, inbound, error);
}

SrtpSession::SrtpSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SrtpSession::~SrtpSession() = default;

namespace {

// The checks and bookkeeping every direction shares: length bounds, room for the trailer (`room`),
// the key's lifetime; `call` does the packet (in the buffer, updating the length).
template <typename Call>
SrtpResult process(std::span<uint8_t> buffer, size_t& length, size_t min_length, size_t room, const KeyUse& use,
                   uint64_t& count, Call call) {
  if (length < min_length || length > buffer.size() || length > INT_MAX - room) return SrtpResult::kMalformed;
  if (buffer.size() - length < room) return SrtpResult::kBufferTooSmall;
  if (use.spent(count)) return SrtpResult::kKeyExpired;
  SrtpResult r = call(buffer, length);
  if (r == SrtpResult::kOk) ++count;
  return r;
}

// libsrtp on an int length (SRTCP).
template <typename Call>
SrtpResult libsrtp(std::span<uint8_t> buffer, size_t& length, Call call) {
  int len = static_cast<int>(length);
  SrtpResult r = map_status(call(buffer.data(), &len));
  if (r == SrtpResult::kOk) length = static_cast<size_t>(len);
  return r;
}

}  // namespace

SrtpResult SrtpSession::protect(std::span<uint8_t> buffer, size_t& length) {
  Impl& m = *impl_;
  return process(buffer, length, kRtpHeader, kMaxOverhead, m.sent, m.sent.rtp,
                 [&m](std::span<uint8_t> b, size_t& len) { return m.rtp_outbound->protect(b, len); });
}

SrtpResult SrtpSession::protect_rtcp(std::span<uint8_t> buffer, size_t& length) {
  Impl& m = *impl_;
  return process(buffer, length, kRtcpHeader, kMaxOverhead, m.sent, m.sent.rtcp, [&m](std::span<uint8_t> b, size_t& len) {
    return libsrtp(b, len, [&m](void* data, int* l) { return srtp_protect_rtcp_mki(m.outbound, data, l, m.outbound_mki, 0); });
  });
}

SrtpResult SrtpSession::unprotect(std::span<uint8_t> buffer, size_t& length) {
  Impl& m = *impl_;
  return process(buffer, length, kRtpHeader, 0, m.received, m.received.rtp,
                 [&m](std::span<uint8_t> b, size_t& len) { return m.rtp_inbound->unprotect(b, len); });
}

SrtpResult SrtpSession::unprotect_rtcp(std::span<uint8_t> buffer, size_t& length) {
  Impl& m = *impl_;
  return process(buffer, length, kRtcpHeader, 0, m.received, m.received.rtcp, [&m](std::span<uint8_t> b, size_t& len) {
    return libsrtp(b, len, [&m](void* data, int* l) { return srtp_unprotect_rtcp_mki(m.inbound, data, l, m.inbound_mki); });
  });
}

}  // namespace warmline::rtp
