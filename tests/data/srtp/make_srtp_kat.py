#!/usr/bin/env python3
"""Computes the SRTP known-answer packets of srtp_session_test.cpp from RFC 3711 itself, independently
of libsrtp and of warmline's code: key derivation (RFC 3711 §4.3, checked below against the Appendix B.3
vectors), AES-CM encryption (§4.1.1) and HMAC-SHA1 authentication (§4.2) of one RTP packet, for
AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 §6.2); and the same packet under AEAD_AES_128_GCM (RFC 7714:
keys by the same PRF with the 96-bit salt zero-padded, §11; IV of §8.1; the header as AAD, §8.2), with
the first 28 bytes of the master key || salt. Needs python3-cryptography. Prints hex."""
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def aes_cm(key, iv16, length):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv16)).encryptor()
    return enc.update(bytes(length)) + enc.finalize()


def derive(master_key, master_salt, label, length, index=0, kdr=0):
    r = 0 if kdr == 0 else index // kdr
    key_id = (label << 48) | r
    x = int.from_bytes(master_salt, "big") ^ key_id
    iv = (x << 16).to_bytes(16, "big")
    return aes_cm(master_key, iv, length)


def protect(master_key, master_salt, packet, roc, tag_len):
    ke = derive(master_key, master_salt, 0x00, 16)
    ka = derive(master_key, master_salt, 0x01, 20)
    ks = derive(master_key, master_salt, 0x02, 14)
    seq = int.from_bytes(packet[2:4], "big")
    ssrc = int.from_bytes(packet[8:12], "big")
    index = (roc << 16) | seq
    iv = (int.from_bytes(ks, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    header, payload = packet[:12], packet[12:]
    stream = aes_cm(ke, iv.to_bytes(16, "big"), len(payload))
    encrypted = header + bytes(a ^ b for a, b in zip(payload, stream))
    tag = hmac.new(ka, encrypted + roc.to_bytes(4, "big"), hashlib.sha1).digest()[:tag_len]
    return encrypted + tag


def protect_gcm(master_key, master_salt12, packet, roc):
    padded = master_salt12 + bytes(2)
    ke = derive(master_key, padded, 0x00, 16)
    ks = derive(master_key, padded, 0x02, 12)
    seq = int.from_bytes(packet[2:4], "big")
    ssrc = int.from_bytes(packet[8:12], "big")
    iv = bytes(a ^ b for a, b in zip(ks, bytes(2) + ssrc.to_bytes(4, "big") + roc.to_bytes(4, "big") + seq.to_bytes(2, "big")))
    header, payload = packet[:12], packet[12:]
    return header + AESGCM(ke).encrypt(iv, payload, header)  # ciphertext || 16-byte tag


# RFC 3711 Appendix B.3 (key derivation test vectors).
MK = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
MS = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
assert derive(MK, MS, 0x00, 16).hex().upper() == "C61E7A93744F39EE10734AFE3FF7A087"
assert derive(MK, MS, 0x02, 14).hex().upper() == "30CBBC08863D8C85D49DB34A9AE1"
assert derive(MK, MS, 0x01, 20).hex().upper().startswith("CEBE321F6FF7716B6FD4AB49AF256A15")

# One RTP packet: V=2, PT=15, seq 0x1234, ts 0xdecafbad, SSRC 0xcafebabe, 16 payload bytes of 0xab.
PACKET = bytes.fromhex("800f1234decafbadcafebabe") + bytes([0xAB]) * 16
print("packet ", PACKET.hex())
print("sha1_80", protect(MK, MS, PACKET, 0, 10).hex())
print("sha1_32", protect(MK, MS, PACKET, 0, 4).hex())
print("gcm    ", protect_gcm(MK, MS[:12], PACKET, 0).hex())
