#include "bench/load/caller_sdp.hpp"

#include <vector>

namespace warmline::load {

sip::LocalMediaCaps caller_media_caps(const std::string& local_ip, uint16_t rtp_port, uint64_t session_id, bool srtp) {
  sip::LocalMediaCaps caps;
  caps.codecs = {"PCMU"};
  caps.local_ip = local_ip;
  caps.local_rtp_port = rtp_port;
  caps.session_id = session_id;
  caps.session_name = "warmline-load";
  caps.srtp = srtp ? sip::SrtpMode::kRequired : sip::SrtpMode::kOff;
  caps.srtp_suites = {sip::SrtpSuite::kAesCm128HmacSha1_80};
  return caps;
}

std::unique_ptr<rtp::SrtpSession> caller_srtp_session(const sip::SessionDescription& offer, std::string_view answer,
                                                      std::string& error) {
  auto parsed = sip::parse_sdp(answer);
  if (!parsed.sdp) return error = "unparsable SDP answer", nullptr;
  const sip::AnswerResult accepted = sip::accept_answer(offer, *parsed.sdp, caller_media_caps("", 0, 0, true));
  if (!accepted.ok) return error = "answer refused: " + accepted.failure_reason, nullptr;
  if (!accepted.srtp) return error = "answer without SRTP keys", nullptr;
  const sip::SrtpKeying& k = *accepted.srtp;
  const std::vector<uint8_t> mki = k.remote_mki ? k.remote_mki->bytes() : std::vector<uint8_t>{};
  return rtp::SrtpSession::create_stream({.suite = sip::to_string(k.suite), .local_key_salt = k.local.bytes(),
                                          .remote_key_salt = k.remote.bytes(), .remote_mki = mki,
                                          .remote_lifetime = k.remote_lifetime.value_or(0)},
                                         error);
}

}  // namespace warmline::load
