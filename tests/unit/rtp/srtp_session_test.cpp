// SrtpSession: round trips per suite, tampering, replays, wrong keys, MKI, key lifetime, and a known
// answer computed from RFC 3711 alone (tests/data/srtp/make_srtp_kat.py).
#include "rtp/srtp_session.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "tests/unit/rtp/srtp_test_hex.hpp"

namespace warmline::rtp {
namespace {

using test::hex;

std::vector<uint8_t> key_of(size_t length, uint8_t seed) {
  std::vector<uint8_t> k(length);
  for (size_t i = 0; i < length; ++i) k[i] = static_cast<uint8_t>(seed + 31 * i);
  return k;
}

size_t key_length(SrtpProfile p) { return p == SrtpProfile::kAeadAes128Gcm ? 28 : 30; }
size_t tag_length(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::kAesCm128HmacSha1_80: return 10;
    case SrtpProfile::kAesCm128HmacSha1_32: return 4;
    case SrtpProfile::kAeadAes128Gcm: return 16;
  }
  return 0;
}

// A PCMU-sized RTP packet (12-byte header + 160 bytes) in a buffer with room for the trailer.
struct Packet {
  std::array<uint8_t, 1500> buf{};
  size_t len = 0;
};
Packet rtp_packet(uint16_t seq, uint32_t ssrc = 0x11223344) {
  Packet p;
  p.buf[0] = 0x80;
  p.buf[1] = 0;  // PCMU
  p.buf[2] = static_cast<uint8_t>(seq >> 8);
  p.buf[3] = static_cast<uint8_t>(seq);
  uint32_t ts = seq * 160u;
  for (int i = 0; i < 4; ++i) p.buf[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p.buf[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  for (size_t i = 12; i < 172; ++i) p.buf[i] = static_cast<uint8_t>(i * 3 + seq);
  p.len = 172;
  return p;
}

// Both ends of one call: a sends with key_a, b sends with key_b.
struct Pair {
  std::unique_ptr<SrtpSession> a;
  std::unique_ptr<SrtpSession> b;
};
Pair make_pair(SrtpProfile profile, std::span<const uint8_t> mki_a = {}, std::span<const uint8_t> mki_b_expects = {}) {
  auto key_a = key_of(key_length(profile), 1);
  auto key_b = key_of(key_length(profile), 2);
  std::string error;
  Pair p;
  p.a = SrtpSession::create({profile, key_a, mki_a, 0}, {profile, key_b, {}, 0}, error);
  EXPECT_TRUE(p.a) << error;
  p.b = SrtpSession::create({profile, key_b, {}, 0}, {profile, key_a, mki_b_expects, 0}, error);
  EXPECT_TRUE(p.b) << error;
  return p;
}

const SrtpProfile kProfiles[] = {SrtpProfile::kAesCm128HmacSha1_80, SrtpProfile::kAesCm128HmacSha1_32,
                                 SrtpProfile::kAeadAes128Gcm};

TEST(SrtpSession, RoundTripEachSuiteBothWays) {
  for (SrtpProfile profile : kProfiles) {
    SCOPED_TRACE(static_cast<int>(profile));
    Pair p = make_pair(profile);
    ASSERT_TRUE(p.a && p.b);
    for (uint16_t seq = 100; seq < 110; ++seq) {
      const Packet plain = rtp_packet(seq);
      Packet wire = plain;
      ASSERT_EQ(p.a->protect(wire.buf, wire.len), SrtpResult::kOk);
      EXPECT_EQ(wire.len, plain.len + tag_length(profile));
      EXPECT_TRUE(std::equal(plain.buf.begin(), plain.buf.begin() + 12, wire.buf.begin()));  // header in clear
      EXPECT_FALSE(std::equal(plain.buf.begin() + 12, plain.buf.begin() + plain.len, wire.buf.begin() + 12));
      ASSERT_EQ(p.b->unprotect(wire.buf, wire.len), SrtpResult::kOk);
      ASSERT_EQ(wire.len, plain.len);
      EXPECT_TRUE(std::equal(plain.buf.begin(), plain.buf.begin() + plain.len, wire.buf.begin()));
      // And the other way, b to a.
      Packet back = rtp_packet(seq, 0x55667788);
      ASSERT_EQ(p.b->protect(back.buf, back.len), SrtpResult::kOk);
      ASSERT_EQ(p.a->unprotect(back.buf, back.len), SrtpResult::kOk);
      EXPECT_EQ(back.len, plain.len);
    }
  }
}

TEST(SrtpSession, TamperedPacketsAreRefused) {
  for (SrtpProfile profile : kProfiles) {
    SCOPED_TRACE(static_cast<int>(profile));
    Pair p = make_pair(profile);
    ASSERT_TRUE(p.a && p.b);
    for (size_t at : {size_t{2}, size_t{40}, size_t{171}, size_t{173}}) {  // header, payload, last byte, tag
      Packet wire = rtp_packet(static_cast<uint16_t>(at));
      ASSERT_EQ(p.a->protect(wire.buf, wire.len), SrtpResult::kOk);
      Packet tampered = wire;
      tampered.buf[at] ^= 0x01;
      EXPECT_EQ(p.b->unprotect(tampered.buf, tampered.len), SrtpResult::kAuthFailed) << "byte " << at;
      // The genuine packet still goes through: a forgery does not advance the replay window.
      EXPECT_EQ(p.b->unprotect(wire.buf, wire.len), SrtpResult::kOk) << "byte " << at;
    }
  }
}

TEST(SrtpSession, ReplayedAndTooOldPacketsAreRefused) {
  for (SrtpProfile profile : kProfiles) {
    SCOPED_TRACE(static_cast<int>(profile));
    Pair p = make_pair(profile);
    ASSERT_TRUE(p.a && p.b);
    Packet first = rtp_packet(1000);
    ASSERT_EQ(p.a->protect(first.buf, first.len), SrtpResult::kOk);
    Packet copy = first;
    ASSERT_EQ(p.b->unprotect(copy.buf, copy.len), SrtpResult::kOk);
    copy = first;
    EXPECT_EQ(p.b->unprotect(copy.buf, copy.len), SrtpResult::kReplayed);

    // A packet held back while 300 newer ones arrive falls out of the 128-packet window.
    Packet held = rtp_packet(1001);
    ASSERT_EQ(p.a->protect(held.buf, held.len), SrtpResult::kOk);
    for (uint16_t seq = 1002; seq < 1302; ++seq) {
      Packet w = rtp_packet(seq);
      ASSERT_EQ(p.a->protect(w.buf, w.len), SrtpResult::kOk);
      ASSERT_EQ(p.b->unprotect(w.buf, w.len), SrtpResult::kOk);
    }
    EXPECT_EQ(p.b->unprotect(held.buf, held.len), SrtpResult::kReplayed);
  }
}

TEST(SrtpSession, WrongKeyIsRefused) {
  for (SrtpProfile profile : kProfiles) {
    SCOPED_TRACE(static_cast<int>(profile));
    auto key = key_of(key_length(profile), 1);
    auto other = key_of(key_length(profile), 9);
    std::string error;
    auto sender = SrtpSession::create({profile, key, {}, 0}, {profile, key, {}, 0}, error);
    auto receiver = SrtpSession::create({profile, other, {}, 0}, {profile, other, {}, 0}, error);
    ASSERT_TRUE(sender && receiver) << error;
    Packet w = rtp_packet(5);
    ASSERT_EQ(sender->protect(w.buf, w.len), SrtpResult::kOk);
    EXPECT_EQ(receiver->unprotect(w.buf, w.len), SrtpResult::kAuthFailed);
  }
}

TEST(SrtpSession, RtcpRoundTripAndTamper) {
  for (SrtpProfile profile : kProfiles) {
    SCOPED_TRACE(static_cast<int>(profile));
    Pair p = make_pair(profile);
    ASSERT_TRUE(p.a && p.b);
    // A receiver report with no blocks: V=2, RC=0, PT=201, length 1, SSRC.
    std::array<uint8_t, 600> buf{0x80, 201, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};
    size_t len = 8;
    ASSERT_EQ(p.a->protect_rtcp(buf, len), SrtpResult::kOk);
    // SRTCP adds the E flag + index (4) and the tag (10 for both AES-CM suites, RFC 4568 §6.2.2; 16 for GCM).
    EXPECT_EQ(len, 8u + 4u + (profile == SrtpProfile::kAeadAes128Gcm ? 16u : 10u));
    auto tampered = buf;
    size_t tampered_len = len;
    tampered[5] ^= 0x80;
    EXPECT_EQ(p.b->unprotect_rtcp(tampered, tampered_len), SrtpResult::kAuthFailed);
    ASSERT_EQ(p.b->unprotect_rtcp(buf, len), SrtpResult::kOk);
    EXPECT_EQ(len, 8u);
    EXPECT_EQ(buf[1], 201);
  }
}

TEST(SrtpSession, MkiIsWrittenAndChecked) {
  const std::array<uint8_t, 4> mki = {0, 0, 0, 1};
  const std::array<uint8_t, 4> other_mki = {0, 0, 0, 2};
  Pair p = make_pair(SrtpProfile::kAesCm128HmacSha1_80, mki, mki);
  ASSERT_TRUE(p.a && p.b);
  Packet w = rtp_packet(7);
  ASSERT_EQ(p.a->protect(w.buf, w.len), SrtpResult::kOk);
  EXPECT_EQ(w.len, 172u + 4u + 10u);
  EXPECT_TRUE(std::equal(mki.begin(), mki.end(), w.buf.begin() + 172));  // MKI before the tag (RFC 3711 §3.1)
  Packet copy = w;
  EXPECT_EQ(p.b->unprotect(copy.buf, copy.len), SrtpResult::kOk);
  EXPECT_EQ(copy.len, 172u);

  Pair q = make_pair(SrtpProfile::kAesCm128HmacSha1_80, mki, other_mki);
  ASSERT_TRUE(q.a && q.b);
  Packet x = rtp_packet(8);
  ASSERT_EQ(q.a->protect(x.buf, x.len), SrtpResult::kOk);
  EXPECT_EQ(q.b->unprotect(x.buf, x.len), SrtpResult::kBadMki);
}

TEST(SrtpSession, KeyLifetimeIsHonoured) {
  auto key = key_of(30, 3);
  std::string error;
  auto sender = SrtpSession::create({SrtpProfile::kAesCm128HmacSha1_80, key, {}, 2},
                                    {SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0}, error);
  auto receiver = SrtpSession::create({SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0},
                                      {SrtpProfile::kAesCm128HmacSha1_80, key, {}, 3}, error);
  ASSERT_TRUE(sender && receiver) << error;
  Packet a = rtp_packet(1), b = rtp_packet(2), c = rtp_packet(3);
  EXPECT_EQ(sender->protect(a.buf, a.len), SrtpResult::kOk);
  EXPECT_EQ(sender->protect(b.buf, b.len), SrtpResult::kOk);
  EXPECT_EQ(sender->protect(c.buf, c.len), SrtpResult::kKeyExpired);  // lifetime 2 on our side

  // The receiver's limit of 3, fed by a sender without one.
  auto unlimited = SrtpSession::create({SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0},
                                       {SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0}, error);
  ASSERT_TRUE(unlimited);
  for (uint16_t seq = 1; seq <= 4; ++seq) {
    Packet w = rtp_packet(seq);
    ASSERT_EQ(unlimited->protect(w.buf, w.len), SrtpResult::kOk);
    EXPECT_EQ(receiver->unprotect(w.buf, w.len), seq <= 3 ? SrtpResult::kOk : SrtpResult::kKeyExpired) << seq;
  }
}

TEST(SrtpSession, BadInputIsRefusedNotCrashedOn) {
  Pair p = make_pair(SrtpProfile::kAesCm128HmacSha1_80);
  ASSERT_TRUE(p.a && p.b);
  Packet w = rtp_packet(1);
  std::span<uint8_t> tight(w.buf.data(), w.len + SrtpSession::kMaxOverhead - 1);
  EXPECT_EQ(p.a->protect(tight, w.len), SrtpResult::kBufferTooSmall);
  size_t short_len = 5;
  EXPECT_EQ(p.a->protect(w.buf, short_len), SrtpResult::kMalformed);
  EXPECT_EQ(p.b->unprotect(w.buf, short_len), SrtpResult::kMalformed);
  size_t too_long = w.buf.size() + 1;
  EXPECT_EQ(p.b->unprotect(w.buf, too_long), SrtpResult::kMalformed);
  // Garbage of every length up to 64 bytes: refused, never accepted.
  std::array<uint8_t, 64> junk{};
  for (size_t n = 0; n <= junk.size(); ++n) {
    for (size_t i = 0; i < n; ++i) junk[i] = static_cast<uint8_t>(0x80 + i * 7);
    size_t len = n;
    EXPECT_NE(p.b->unprotect(junk, len), SrtpResult::kOk) << n;
    len = n;
    EXPECT_NE(p.b->unprotect_rtcp(junk, len), SrtpResult::kOk) << n;
  }
}

TEST(SrtpSession, WrongKeyLengthFailsWithoutEchoingTheKey) {
  auto key = key_of(29, 0x41);
  std::string error;
  auto s = SrtpSession::create({SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0},
                               {SrtpProfile::kAesCm128HmacSha1_80, key, {}, 0}, error);
  EXPECT_FALSE(s);
  EXPECT_EQ(error, "SRTP key has the wrong length");
  auto gcm_key = key_of(30, 0x41);  // AES_CM's length is wrong for GCM
  s = SrtpSession::create({SrtpProfile::kAeadAes128Gcm, gcm_key, {}, 0}, {SrtpProfile::kAeadAes128Gcm, gcm_key, {}, 0},
                          error);
  EXPECT_FALSE(s);
}

// RFC 3711 Appendix B.3's master key and salt, one packet, protected by tests/data/srtp/make_srtp_kat.py
// (key derivation checked there against B.3, then AES-CM and HMAC-SHA1 by the RFC's formulas, and
// AES-GCM by RFC 7714's, on python3-cryptography: independent of libsrtp and of rtp/srtp_transform).
TEST(SrtpSession, KnownAnswerFromRfc3711) {
  const auto master = hex("e1f97a0d3e018be0d64fa32c06de4139" "0ec675ad498afeebb6960b3aabe6");
  const auto plain = hex("800f1234decafbadcafebabeabababababababababababababababab");
  const std::pair<SrtpProfile, std::string_view> expected[] = {
      {SrtpProfile::kAesCm128HmacSha1_80,
       "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb"},
      {SrtpProfile::kAesCm128HmacSha1_32, "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc"},
      // RFC 7714 with the first 28 bytes (master key || 96-bit salt): ciphertext || 16-byte tag.
      {SrtpProfile::kAeadAes128Gcm,
       "800f1234decafbadcafebabe0eca0cf95ee955b26cd3d288b49f6ca959171450975f4144da9cdd7ae989a277"},
  };
  for (const auto& [profile, want_hex] : expected) {
    SCOPED_TRACE(want_hex);
    std::string error;
    const auto key = std::span<const uint8_t>(master).first(key_length(profile));
    auto s = SrtpSession::create({profile, key, {}, 0}, {profile, key, {}, 0}, error);
    ASSERT_TRUE(s) << error;
    std::array<uint8_t, 256> buf{};
    std::copy(plain.begin(), plain.end(), buf.begin());
    size_t len = plain.size();
    ASSERT_EQ(s->protect(buf, len), SrtpResult::kOk);
    const auto want = hex(want_hex);
    ASSERT_EQ(len, want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
    // And the reference packet goes back to the plain one.
    std::copy(want.begin(), want.end(), buf.begin());
    len = want.size();
    ASSERT_EQ(s->unprotect(buf, len), SrtpResult::kOk);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));
  }
}

// create_stream: the suite by its SDES name, ours protecting and the peer's (MKI, lifetime) unprotecting.
TEST(SrtpSession, ProfileFromSuiteName) {
  EXPECT_EQ(srtp_profile_from_name("AES_CM_128_HMAC_SHA1_80"), SrtpProfile::kAesCm128HmacSha1_80);
  EXPECT_EQ(srtp_profile_from_name("AES_CM_128_HMAC_SHA1_32"), SrtpProfile::kAesCm128HmacSha1_32);
  EXPECT_EQ(srtp_profile_from_name("AEAD_AES_128_GCM"), SrtpProfile::kAeadAes128Gcm);
  EXPECT_FALSE(srtp_profile_from_name("aes_cm_128_hmac_sha1_80"));  // RFC 4568 §9.2: case-sensitive
  EXPECT_FALSE(srtp_profile_from_name("AES_256_CM_HMAC_SHA1_80"));
  EXPECT_FALSE(srtp_profile_from_name(""));
}

TEST(SrtpSession, InitializeIsIdempotentAndSessionsFollow) {
  EXPECT_TRUE(SrtpSession::initialize());
  EXPECT_TRUE(SrtpSession::initialize());
  const auto k = key_of(30, 3);
  std::string error;
  EXPECT_TRUE(SrtpSession::create_stream({.suite = "AES_CM_128_HMAC_SHA1_80", .local_key_salt = k, .remote_key_salt = k}, error))
      << error;
}

TEST(SrtpSession, StreamOfUnknownSuiteIsRefused) {
  const auto k = key_of(30, 1);
  std::string error;
  EXPECT_FALSE(SrtpSession::create_stream({.suite = "F8_128_HMAC_SHA1_80", .local_key_salt = k, .remote_key_salt = k}, error));
  EXPECT_EQ(error, "unsupported SRTP suite");
}

TEST(SrtpSession, StreamProtectsWithOursAndUnprotectsWithThePeers) {
  const auto master = hex("e1f97a0d3e018be0d64fa32c06de4139" "0ec675ad498afeebb6960b3aabe6");
  const auto other = key_of(30, 9);
  const auto plain = hex("800f1234decafbadcafebabeabababababababababababababababab");
  std::string error;
  auto ours = SrtpSession::create_stream(
      {.suite = "AES_CM_128_HMAC_SHA1_80", .local_key_salt = master, .remote_key_salt = other}, error);
  ASSERT_TRUE(ours) << error;
  std::array<uint8_t, 256> buf{};
  std::copy(plain.begin(), plain.end(), buf.begin());
  size_t len = plain.size();
  ASSERT_EQ(ours->protect(buf, len), SrtpResult::kOk);
  const auto want = hex("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb");
  ASSERT_EQ(len, want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));  // RFC 3711's answer under our key
  // The peer protects with `other` and puts an MKI in; its key allows two packets.
  const std::vector<uint8_t> mki = {0, 0, 0, 7};
  auto peer = SrtpSession::create({SrtpProfile::kAesCm128HmacSha1_80, other, mki, 0},
                                  {SrtpProfile::kAesCm128HmacSha1_80, master, {}, 0}, error);
  ASSERT_TRUE(peer) << error;
  auto limited = SrtpSession::create_stream({.suite = "AES_CM_128_HMAC_SHA1_80", .local_key_salt = master,
                                             .remote_key_salt = other, .remote_mki = mki, .remote_lifetime = 2},
                                            error);
  ASSERT_TRUE(limited) << error;
  for (uint16_t seq = 1; seq <= 3; ++seq) {
    Packet p = rtp_packet(seq, 0x1234);
    ASSERT_EQ(peer->protect(p.buf, p.len), SrtpResult::kOk);
    EXPECT_EQ(limited->unprotect(p.buf, p.len), seq <= 2 ? SrtpResult::kOk : SrtpResult::kKeyExpired);
  }
}

}  // namespace
}  // namespace warmline::rtp
