// SRTP key derivation (RFC 3711 §4.3) and the per-packet IVs of rtp/srtp_transform.
//
// Key derivation: the session keys of one master key, by the AES-CM PRF of §4.3.3 with a key
// derivation rate of 0 (the default, and all RFC 4568 SDES asks for), so each session key is derived
// once per session. AEAD_AES_128_GCM derives its keys the same way with its 96-bit master salt padded
// with zeros to the PRF's 112 bits (RFC 7714 §11, as libsrtp does). It runs at session creation only
// (it creates an EVP context); never on the media path. The IV functions are plain arithmetic.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace warmline::rtp {

// RFC 3711 §4.3.1 labels of the SRTP (RTP) session keys; SRTCP's are 0x03-0x05.
inline constexpr uint8_t kSrtpLabelCipherKey = 0x00;
inline constexpr uint8_t kSrtpLabelAuthKey = 0x01;
inline constexpr uint8_t kSrtpLabelSalt = 0x02;

// AES-CM's keystream (RFC 3711 §4.1.1) under the 16-byte `key` from the counter block `iv`, into `out`.
// False (and `out` zeroed) on a bad key length or an OpenSSL failure.
bool srtp_aes_cm_keystream(std::span<const uint8_t> key, const std::array<uint8_t, 16>& iv, std::span<uint8_t> out);

// Fills `out` (at most 64 bytes) with the session key of `label`. `master_key` is 16 bytes (AES-128),
// `master_salt` 14 bytes (AES-CM suites) or 12 (GCM, zero-padded). False on a bad length or an
// OpenSSL failure; `out` is then zeroed.
bool srtp_derive_key(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt, uint8_t label,
                     std::span<uint8_t> out);

// AES-CM's counter block for one packet (RFC 3711 §4.1.1):
// (session salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), with the 14-byte session salt.
std::array<uint8_t, 16> srtp_aes_cm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint64_t index);

// AEAD_AES_128_GCM's IV for one packet (RFC 7714 §8.1): session salt XOR (00 00 || SSRC || ROC || SEQ),
// with the 12-byte session salt (the first 12 bytes of `salt`); the last 4 bytes of the result are 0.
std::array<uint8_t, 16> srtp_gcm_iv(const std::array<uint8_t, 14>& salt, uint32_t ssrc, uint64_t index);

}  // namespace warmline::rtp
