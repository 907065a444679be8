// rtp/srtp_transform against libsrtp2 itself, in process: libsrtp protects and ours unprotects, and
// the other way, for every suite, with and without an MKI, across a ROC wrap (SEQ 65535 -> 0), with
// packets reordered inside the replay window, CSRCs and a header extension; replays, packets too
// old, flipped bits and a wrong MKI refused. libsrtp 2.5 is the reference implementation the gateway
// talked through until now, and what baresip (the e2e peer) uses.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <string>
#include <vector>

#include "rtp/srtp_transform.hpp"

namespace warmline::rtp {
namespace {

struct Packet {
  std::array<uint8_t, 1500> buf{};
  size_t len = 0;
  bool operator==(const Packet& o) const { return len == o.len && std::equal(buf.begin(), buf.begin() + len, o.buf.begin()); }
};

// Packet `n` of a stream: sequence number `seq`; every 7th has a CSRC and a one-byte-header extension
// (RFC 8285), lengths vary.
Packet rtp_packet(uint16_t seq, uint32_t n, uint32_t ssrc) {
  Packet p;
  const bool extended = n % 7 == 3;
  p.buf[0] = extended ? 0x91 : 0x80;  // V=2, X, CC=1
  p.buf[1] = static_cast<uint8_t>(n % 5 == 0 ? 0x80 | 8 : 8);
  p.buf[2] = static_cast<uint8_t>(seq >> 8);
  p.buf[3] = static_cast<uint8_t>(seq);
  const uint32_t ts = n * 160u;
  for (int i = 0; i < 4; ++i) p.buf[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p.buf[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  size_t at = 12;
  if (extended) {
    const uint8_t more[] = {0xca, 0xfe, 0xf0, 0x0d, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00};
    std::copy(std::begin(more), std::end(more), p.buf.begin() + 12);
    at += sizeof more;
  }
  const size_t payload = 20 + (n * 37) % 300;
  for (size_t i = 0; i < payload; ++i) p.buf[at + i] = static_cast<uint8_t>(i * 7 + n);
  p.len = at + payload;
  return p;
}

size_t key_length(SrtpProfile p) { return p == SrtpProfile::kAeadAes128Gcm ? 28 : 30; }

std::vector<uint8_t> key_of(size_t length, uint8_t seed) {
  std::vector<uint8_t> k(length);
  for (size_t i = 0; i < length; ++i) k[i] = static_cast<uint8_t>(seed * 17 + 29 * i);
  return k;
}

// One libsrtp context for one direction, as rtp/srtp_session.cpp builds them (window 128).
class Libsrtp {
 public:
  Libsrtp(SrtpProfile profile, std::vector<uint8_t> key, const std::vector<uint8_t>& mki, bool outbound)
      : key_(std::move(key)), mki_(mki) {
    key_.resize(46);  // libsrtp reads the suite's length
    mki_.resize(std::max<size_t>(mki.size(), 1));
    srtp_policy_t p{};
    switch (profile) {
      case SrtpProfile::kAesCm128HmacSha1_80: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp); break;
      case SrtpProfile::kAesCm128HmacSha1_32: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp); break;
      case SrtpProfile::kAeadAes128Gcm: srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp); break;
    }
    if (profile == SrtpProfile::kAeadAes128Gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    }
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    if (mki.empty()) {
      p.key = key_.data();
    } else {
      use_mki_ = 1;
      master_ = {key_.data(), mki_.data(), static_cast<unsigned>(mki.size())};
      masters_[0] = &master_;
      p.keys = masters_;
      p.num_master_keys = 1;
    }
    p.window_size = 128;
    status_ = srtp_create(&ctx_, &p);
  }
  ~Libsrtp() {
    if (ctx_) srtp_dealloc(ctx_);
  }
  Libsrtp(const Libsrtp&) = delete;
  Libsrtp& operator=(const Libsrtp&) = delete;
  bool ok() const { return status_ == srtp_err_status_ok; }
  srtp_err_status_t protect(Packet& p) {
    int len = static_cast<int>(p.len);
    const auto s = srtp_protect_mki(ctx_, p.buf.data(), &len, use_mki_, 0);
    p.len = static_cast<size_t>(len);
    return s;
  }
  srtp_err_status_t unprotect(Packet& p) {
    int len = static_cast<int>(p.len);
    const auto s = srtp_unprotect_mki(ctx_, p.buf.data(), &len, use_mki_);
    p.len = static_cast<size_t>(len);
    return s;
  }

 private:
  std::vector<uint8_t> key_;
  std::vector<uint8_t> mki_;
  unsigned use_mki_ = 0;
  srtp_master_key_t master_{};
  srtp_master_key_t* masters_[1] = {nullptr};
  srtp_t ctx_ = nullptr;
  srtp_err_status_t status_ = srtp_err_status_fail;
};

std::unique_ptr<SrtpTransform> ours(SrtpProfile profile, const std::vector<uint8_t>& key, const std::vector<uint8_t>& mki,
                                    SrtpTransform::Direction direction) {
  std::string error;
  auto t = SrtpTransform::create({profile, key, mki, 0}, direction, error);
  EXPECT_TRUE(t) << error;
  return t;
}

// The order packets arrive in: SEQ 65400 up to 65535, then 0 up to 199 (the ROC goes to 1); within
// each group of four the order is 2, 0, 3, 1.
std::vector<uint32_t> arrival_order(uint32_t count) {
  std::vector<uint32_t> order;
  for (uint32_t g = 0; g + 4 <= count; g += 4) {
    for (uint32_t k : {2u, 0u, 3u, 1u}) order.push_back(g + k);
  }
  return order;
}
constexpr uint32_t kPackets = 336;
constexpr uint16_t kFirstSeq = 65400;
constexpr uint32_t kSsrc = 0x5eed1234;
constexpr uint32_t kHeldBack = 5;  // never delivered in order: later it is too old

struct Case {
  SrtpProfile profile;
  std::vector<uint8_t> mki;
};
std::vector<Case> cases() {
  std::vector<Case> c;
  for (SrtpProfile p : {SrtpProfile::kAesCm128HmacSha1_80, SrtpProfile::kAesCm128HmacSha1_32, SrtpProfile::kAeadAes128Gcm}) {
    c.push_back({p, {}});
    c.push_back({p, {0x00, 0x00, 0x00, 0x05}});
  }
  return c;
}

TEST(SrtpInterop, LibsrtpProtectsOursUnprotects) {
  ASSERT_TRUE(SrtpSession::initialize());
  for (const Case& c : cases()) {
    SCOPED_TRACE(static_cast<int>(c.profile) * 10 + static_cast<int>(c.mki.size()));
    const auto key = key_of(key_length(c.profile), 3);
    Libsrtp sender(c.profile, key, c.mki, true);
    ASSERT_TRUE(sender.ok());
    auto receiver = ours(c.profile, key, c.mki, SrtpTransform::Direction::kInbound);
    ASSERT_TRUE(receiver);
    std::vector<Packet> plain, wire;
    for (uint32_t n = 0; n < kPackets; ++n) {
      plain.push_back(rtp_packet(static_cast<uint16_t>(kFirstSeq + n), n, kSsrc));
      wire.push_back(plain.back());
      ASSERT_EQ(sender.protect(wire.back()), srtp_err_status_ok) << n;
      ASSERT_EQ(wire.back().len, plain.back().len + c.mki.size() + (c.profile == SrtpProfile::kAesCm128HmacSha1_32 ? 4 : c.profile == SrtpProfile::kAeadAes128Gcm ? 16 : 10));
    }
    for (uint32_t n : arrival_order(kPackets)) {
      if (n == kHeldBack) continue;
      Packet p = wire[n];
      if (n == 40) {  // a flipped bit first: refused, and the genuine packet still goes through after it
        Packet forged = p;
        forged.buf[forged.len / 2] ^= 0x10;
        EXPECT_EQ(receiver->unprotect(forged.buf, forged.len), SrtpResult::kAuthFailed);
      }
      ASSERT_EQ(receiver->unprotect(p.buf, p.len), SrtpResult::kOk) << n;
      ASSERT_TRUE(p == plain[n]) << n;
    }
    Packet again = wire[200];
    EXPECT_EQ(receiver->unprotect(again.buf, again.len), SrtpResult::kReplayed);
    Packet again_after_wrap = wire[kPackets - 1];
    EXPECT_EQ(receiver->unprotect(again_after_wrap.buf, again_after_wrap.len), SrtpResult::kReplayed);
    Packet held = wire[kHeldBack];
    EXPECT_EQ(receiver->unprotect(held.buf, held.len), SrtpResult::kReplayed);  // too old
    if (!c.mki.empty()) {
      Packet next = rtp_packet(static_cast<uint16_t>(kFirstSeq + kPackets), kPackets, kSsrc);
      ASSERT_EQ(sender.protect(next), srtp_err_status_ok);
      const size_t mki_at = c.profile == SrtpProfile::kAeadAes128Gcm ? next.len - c.mki.size() : next.len - c.mki.size() - (c.profile == SrtpProfile::kAesCm128HmacSha1_32 ? 4 : 10);
      Packet wrong = next;
      wrong.buf[mki_at + 3] ^= 0x01;
      EXPECT_EQ(receiver->unprotect(wrong.buf, wrong.len), SrtpResult::kBadMki);
      EXPECT_EQ(receiver->unprotect(next.buf, next.len), SrtpResult::kOk);
    }
  }
}

TEST(SrtpInterop, OursProtectsLibsrtpUnprotects) {
  ASSERT_TRUE(SrtpSession::initialize());
  for (const Case& c : cases()) {
    SCOPED_TRACE(static_cast<int>(c.profile) * 10 + static_cast<int>(c.mki.size()));
    const auto key = key_of(key_length(c.profile), 4);
    auto sender = ours(c.profile, key, c.mki, SrtpTransform::Direction::kOutbound);
    ASSERT_TRUE(sender);
    Libsrtp receiver(c.profile, key, c.mki, false);
    ASSERT_TRUE(receiver.ok());
    std::vector<Packet> plain, wire;
    for (uint32_t n = 0; n < kPackets; ++n) {
      plain.push_back(rtp_packet(static_cast<uint16_t>(kFirstSeq + n), n, kSsrc));
      wire.push_back(plain.back());
      ASSERT_EQ(sender->protect(wire.back().buf, wire.back().len), SrtpResult::kOk) << n;
      EXPECT_EQ(wire.back().len, plain.back().len + sender->overhead());
    }
    // Ours refuses to protect an index twice (keystream reuse), as libsrtp does.
    Packet repeat = plain[kPackets - 1];
    EXPECT_EQ(sender->protect(repeat.buf, repeat.len), SrtpResult::kReplayed);
    for (uint32_t n : arrival_order(kPackets)) {
      Packet p = wire[n];
      ASSERT_EQ(receiver.unprotect(p), srtp_err_status_ok) << n;
      ASSERT_TRUE(p == plain[n]) << n;
    }
    // A flipped bit in what ours sent: libsrtp refuses it, then takes the genuine packet.
    Packet next = rtp_packet(static_cast<uint16_t>(kFirstSeq + kPackets), kPackets, kSsrc);
    ASSERT_EQ(sender->protect(next.buf, next.len), SrtpResult::kOk);
    Packet forged = next;
    forged.buf[20] ^= 0x04;
    EXPECT_EQ(receiver.unprotect(forged), srtp_err_status_auth_fail);
    EXPECT_EQ(receiver.unprotect(next), srtp_err_status_ok);
  }
}

// Inbound, more SSRCs than the table holds: each one libsrtp sends from is taken (the stream heard from
// longest ago gives its slot up); a forged packet of a new SSRC creates no stream. Outbound, a fifth
// SSRC is refused.
TEST(SrtpInterop, ManySsrcs) {
  ASSERT_TRUE(SrtpSession::initialize());
  const auto key = key_of(30, 5);
  Libsrtp sender(SrtpProfile::kAesCm128HmacSha1_80, key, {}, true);
  ASSERT_TRUE(sender.ok());
  auto receiver = ours(SrtpProfile::kAesCm128HmacSha1_80, key, {}, SrtpTransform::Direction::kInbound);
  ASSERT_TRUE(receiver);
  for (uint32_t round = 0; round < 3; ++round) {
    for (uint32_t ssrc = 1; ssrc <= 6; ++ssrc) {
      Packet p = rtp_packet(static_cast<uint16_t>(100 * ssrc + round), round, ssrc);
      const Packet plain = p;
      ASSERT_EQ(sender.protect(p), srtp_err_status_ok);
      ASSERT_EQ(receiver->unprotect(p.buf, p.len), SrtpResult::kOk) << ssrc << " " << round;
      EXPECT_TRUE(p == plain);
    }
  }
  Packet forged = rtp_packet(7, 7, 77);
  ASSERT_EQ(sender.protect(forged), srtp_err_status_ok);
  forged.buf[30] ^= 1;
  EXPECT_EQ(receiver->unprotect(forged.buf, forged.len), SrtpResult::kAuthFailed);

  auto out = ours(SrtpProfile::kAesCm128HmacSha1_80, key, {}, SrtpTransform::Direction::kOutbound);
  ASSERT_TRUE(out);
  for (uint32_t ssrc = 1; ssrc <= 5; ++ssrc) {
    Packet p = rtp_packet(1, 1, ssrc);
    EXPECT_EQ(out->protect(p.buf, p.len), ssrc <= 4 ? SrtpResult::kOk : SrtpResult::kError) << ssrc;
  }
  // Each direction only does its own half.
  Packet p = rtp_packet(2, 2, 1);
  EXPECT_EQ(out->unprotect(p.buf, p.len), SrtpResult::kError);
  EXPECT_EQ(receiver->protect(p.buf, p.len), SrtpResult::kError);
}

}  // namespace
}  // namespace warmline::rtp
