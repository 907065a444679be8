#include "rtp/srtp_replay.hpp"

namespace warmline::rtp {

std::optional<uint64_t> srtp_estimate_index(uint64_t highest, uint16_t seq) {
  const int64_t roc = static_cast<int64_t>(highest >> 16);
  const int32_t s_l = static_cast<int32_t>(highest & 0xffff);
  const int32_t s = seq;
  int64_t v = roc;
  if (s_l < 32768) {
    if (s - s_l > 32768) v = roc - 1;  // a late packet from before the last wrap
  } else if (s_l - 32768 > s) {
    v = roc + 1;  // the sequence number wrapped
  }
  if (v < 0 || v > 0xffffffffLL) return std::nullopt;
  return (static_cast<uint64_t>(v) << 16) | seq;
}

SrtpReplayTable::Verdict SrtpReplayTable::check(uint32_t ssrc, uint16_t seq) const {
  Verdict v;
  for (size_t i = 0; i < streams_.size(); ++i) {
    const Stream& s = streams_[i];
    if (!s.used || s.ssrc != ssrc) continue;
    v.slot = static_cast<int>(i);
    const auto index = srtp_estimate_index(s.highest, seq);
    if (!index) return v;
    v.index = *index;
    if (*index > s.highest) {
      v.check = Check::kOk;
    } else {
      const uint64_t behind = s.highest - *index;
      v.check = behind < kWindow && ((s.seen >> behind) & 1) == 0 ? Check::kOk : Check::kReplayed;
    }
    return v;
  }
  // A new stream: ROC 0, as libsrtp starts one (RFC 3711 §3.3.1 leaves the receiver's start open).
  v.index = seq;
  v.check = Check::kOk;
  v.full = true;
  for (const Stream& s : streams_) v.full = v.full && s.used;
  return v;
}

bool SrtpReplayTable::commit(uint32_t ssrc, const Verdict& verdict, bool evict) {
  if (verdict.check != Check::kOk) return false;
  ++clock_;
  if (verdict.slot >= 0) {
    Stream& s = streams_[static_cast<size_t>(verdict.slot)];
    if (verdict.index > s.highest) {
      const uint64_t ahead = verdict.index - s.highest;
      s.seen = ahead >= kWindow ? Bits{0} : s.seen << ahead;
      s.seen |= 1;
      s.highest = verdict.index;
    } else {
      s.seen |= Bits{1} << (s.highest - verdict.index);
    }
    s.last_use = clock_;
    return true;
  }
  Stream* slot = nullptr;
  for (Stream& s : streams_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (!slot) {
    if (!evict) return false;
    slot = &streams_[0];
    for (Stream& s : streams_) {
      if (s.last_use < slot->last_use) slot = &s;
    }
  }
  *slot = Stream{.used = true, .ssrc = ssrc, .highest = verdict.index, .seen = 1, .last_use = clock_};
  return true;
}

}  // namespace warmline::rtp
