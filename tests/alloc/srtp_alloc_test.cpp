// No allocation per SRTP packet (rtp/srtp_transform through SrtpSession): this executable replaces
// malloc, calloc, realloc, memalign and free with counting ones (glibc's __libc_* underneath; ELF
// interposition also catches libcrypto's calls) and counts them around protect/unprotect of RTP once
// the streams exist. Its own executable, built without sanitizers (they bring their own allocator):
// tests/CMakeLists.txt. Single-threaded: the counter is a plain global.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "rtp/srtp_session.hpp"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* ptr);
}

namespace {
bool counting = false;
long calls = 0;
}  // namespace

extern "C" {
void* malloc(size_t size) {
  if (counting) ++calls;
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  if (counting) ++calls;
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, size_t size) {
  if (counting) ++calls;
  return __libc_realloc(ptr, size);
}
void* memalign(size_t alignment, size_t size) {
  if (counting) ++calls;
  return __libc_memalign(alignment, size);
}
void free(void* ptr) {
  if (counting && ptr) ++calls;
  __libc_free(ptr);
}
}

namespace warmline::rtp {
namespace {

// Allocator calls made by `f`.
template <typename F>
long allocations(F&& f) {
  calls = 0;
  counting = true;
  f();
  counting = false;
  return calls;
}

std::vector<uint8_t> key_of(size_t length, uint8_t seed) {
  std::vector<uint8_t> k(length);
  for (size_t i = 0; i < length; ++i) k[i] = static_cast<uint8_t>(seed + 13 * i);
  return k;
}

void write_packet(std::array<uint8_t, 600>& buf, uint16_t seq) {
  buf.fill(0x5a);
  buf[0] = 0x80;
  buf[1] = 0;
  buf[2] = static_cast<uint8_t>(seq >> 8);
  buf[3] = static_cast<uint8_t>(seq);
  buf[8] = 0x12;
}

// The counter sees libcrypto's allocations: without this the test below could pass by counting nothing.
TEST(SrtpAllocations, CounterSeesLibcrypto) {
  EXPECT_GT(allocations([] { EVP_CIPHER_CTX_free(EVP_CIPHER_CTX_new()); }), 0);
  // And why HMAC-SHA1 is not an EVP_MD_CTX copy per packet: on OpenSSL 3.0 the copy allocates.
  EVP_MD_CTX* keyed = EVP_MD_CTX_new();
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestInit_ex(keyed, EVP_sha1(), nullptr), 1);
  ASSERT_EQ(EVP_MD_CTX_copy_ex(copy, keyed), 1);
  const long copies = allocations([&] { EVP_MD_CTX_copy_ex(copy, keyed); });
  std::printf("EVP_MD_CTX_copy_ex: %ld allocator calls\n", copies);
  EVP_MD_CTX_free(copy);
  EVP_MD_CTX_free(keyed);
}

TEST(SrtpAllocations, NoneForRtpProtectAndUnprotect) {
  for (const char* suite : {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM"}) {
    SCOPED_TRACE(suite);
    const size_t n = std::string(suite) == "AEAD_AES_128_GCM" ? 28 : 30;
    const auto k1 = key_of(n, 1), k2 = key_of(n, 2);
    const std::vector<uint8_t> mki = {0, 0, 0, 9};
    std::string error;
    auto a = SrtpSession::create({*srtp_profile_from_name(suite), k1, mki, 0}, {*srtp_profile_from_name(suite), k2, {}, 0}, error);
    auto b = SrtpSession::create({*srtp_profile_from_name(suite), k2, {}, 0}, {*srtp_profile_from_name(suite), k1, mki, 0}, error);
    ASSERT_TRUE(a && b) << error;
    std::array<uint8_t, 600> buf{};
    uint16_t seq = 65000;  // through a ROC wrap
    int failures = 0;
    auto one = [&] {
      write_packet(buf, seq++);
      size_t len = 172;
      if (a->protect(buf, len) != SrtpResult::kOk || b->unprotect(buf, len) != SrtpResult::kOk || len != 172) ++failures;
    };
    one();  // the first packet creates each side's stream (a fixed table: no allocation either)
    EXPECT_EQ(allocations([&] {
                for (int i = 0; i < 1000; ++i) one();
              }),
              0);
    EXPECT_EQ(failures, 0);
    // A forged packet and a replay cost nothing either.
    EXPECT_EQ(allocations([&] {
                write_packet(buf, seq);
                size_t len = 172;
                a->protect(buf, len);
                std::array<uint8_t, 600> copy = buf;
                size_t copy_len = len;
                if (b->unprotect(copy, copy_len) != SrtpResult::kOk) ++failures;
                buf[20] ^= 1;
                if (b->unprotect(buf, len) != SrtpResult::kReplayed) ++failures;
                copy = buf;
                const uint16_t later = static_cast<uint16_t>(seq + 5);  // a new SEQ: on to authentication
                copy[2] = static_cast<uint8_t>(later >> 8);
                copy[3] = static_cast<uint8_t>(later);
                copy_len = len;
                if (b->unprotect(copy, copy_len) != SrtpResult::kAuthFailed) ++failures;
              }),
              0);
    EXPECT_EQ(failures, 0);
  }
}

}  // namespace
}  // namespace warmline::rtp
