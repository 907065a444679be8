#include "server/leg/leg_codecs.hpp"

#include <algorithm>

namespace warmline::server {

const media::CodecInfo* codec_info(std::string_view name) {
  for (const auto& info : media::supported_codecs())
    if (sip::iequals(info.name, name)) return &info;
  return nullptr;
}

std::vector<std::string> same_rate_codecs(const std::vector<std::string>& codecs, std::string_view first) {
  std::vector<std::string> out;
  auto listed = [&](std::string_view name) {
    return std::any_of(codecs.begin(), codecs.end(), [&](const std::string& c) { return sip::iequals(c, name); });
  };
  if (!first.empty() && codec_info(first) && listed(first)) out.emplace_back(first);
  const media::CodecInfo* lead = codec_info(out.empty() ? (codecs.empty() ? std::string_view() : codecs.front()) : out.front());
  for (const auto& name : codecs) {
    const media::CodecInfo* info = codec_info(name);
    if (!lead || !info || info->pcm_rate_hz != lead->pcm_rate_hz) continue;
    if (std::none_of(out.begin(), out.end(), [&](const std::string& c) { return sip::iequals(c, name); }))
      out.push_back(name);
  }
  return out;
}

std::optional<sip::RtpMap> first_codec(const sip::SessionDescription& offer) {
  if (offer.media.empty()) return std::nullopt;
  const auto& m = offer.media.front();
  for (const auto& map : m.rtpmaps)
    if (!sip::iequals(map.encoding, "telephone-event")) return map;
  return std::nullopt;
}

}  // namespace warmline::server
