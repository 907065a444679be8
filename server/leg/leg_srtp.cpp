// SRTP on call legs: see leg_srtp.hpp.
#include "server/leg/leg_srtp.hpp"

#include <vector>

namespace warmline::server {

sip::SrtpMode srtp_mode(SrtpPolicy policy) {
  switch (policy) {
    case SrtpPolicy::off: return sip::SrtpMode::kOff;
    case SrtpPolicy::optional: return sip::SrtpMode::kOptional;
    case SrtpPolicy::required: return sip::SrtpMode::kRequired;
  }
  return sip::SrtpMode::kOff;
}

sip::SrtpMode srtp_mode(const TrunkConfig* trunk) { return trunk ? srtp_mode(trunk->srtp) : sip::SrtpMode::kOff; }

std::shared_ptr<rtp::SrtpSession> make_srtp_session(const sip::SrtpKeying& keying, std::string& error) {
  const std::vector<uint8_t> mki = keying.remote_mki ? keying.remote_mki->bytes() : std::vector<uint8_t>{};
  return rtp::SrtpSession::create_stream({.suite = sip::to_string(keying.suite),
                                          .local_key_salt = keying.local.bytes(),
                                          .remote_key_salt = keying.remote.bytes(),
                                          .remote_mki = mki,
                                          .remote_lifetime = keying.remote_lifetime.value_or(0)},
                                         error);
}

bool apply_srtp(MediaSession& media, const std::optional<sip::SrtpKeying>& keying, std::string& error) {
  if (!keying) {
    media.set_srtp(nullptr);
    return true;
  }
  auto session = make_srtp_session(*keying, error);
  if (!session) return false;
  media.set_srtp(std::move(session));
  return true;
}

bool same_srtp_keys(const std::optional<sip::SrtpKeying>& a, const std::optional<sip::SrtpKeying>& b) {
  if (!a || !b) return !a && !b;
  return a->suite == b->suite && a->local == b->local && a->remote == b->remote && a->remote_mki == b->remote_mki &&
         a->remote_lifetime == b->remote_lifetime;
}

}  // namespace warmline::server
