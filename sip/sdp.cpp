// SDP parser and serializer (RFC 4566). Offer/answer lives in sdp_offer_answer.cpp.
#include "sip/sdp.hpp"

#include <charconv>

#include "sip/message.hpp"

namespace warmline::sip {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits on runs of spaces (RFC 4566 says one space; carriers sometimes send two).
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::optional<MediaDirection> parse_direction(std::string_view name) {
  if (name == "sendrecv") return MediaDirection::kSendRecv;
  if (name == "sendonly") return MediaDirection::kSendOnly;
  if (name == "recvonly") return MediaDirection::kRecvOnly;
  if (name == "inactive") return MediaDirection::kInactive;
  return std::nullopt;
}

std::optional<SdpOrigin> parse_origin(std::string_view value) {
  auto w = split_words(value);
  SdpOrigin o;
  if (w.size() != 6 || !parse_number(w[1], o.session_id) || !parse_number(w[2], o.session_version)) {
    return std::nullopt;
  }
  o.username = w[0];
  o.net_type = w[3];
  o.addr_type = w[4];
  o.address = w[5];
  return o;
}

std::optional<SdpConnection> parse_connection(std::string_view value) {
  auto w = split_words(value);
  if (w.size() != 3 || w[2].empty()) return std::nullopt;
  SdpConnection c;
  c.net_type = w[0];
  c.addr_type = w[1];
  c.address = w[2].substr(0, w[2].find('/'));  // multicast /ttl and /count are not used by us
  if (c.address.empty()) return std::nullopt;
  // No whitespace or control character in an address (RFC 4566 §9): a tab before "/ttl" would end the
  // address as written and be trimmed as line-end whitespace when read again (found by sip_sdp fuzzing).
  for (char ch : c.address) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return std::nullopt;
  }
  return c;
}

std::optional<MediaDescription> parse_media_line(std::string_view value) {
  auto w = split_words(value);
  if (w.size() < 3) return std::nullopt;
  MediaDescription m;
  m.media = w[0];
  std::string_view port = w[1];
  if (size_t slash = port.find('/'); slash != std::string_view::npos) {
    if (!parse_number(port.substr(slash + 1), m.port_count) || m.port_count == 0) return std::nullopt;
    port = port.substr(0, slash);
  }
  if (!parse_number(port, m.port)) return std::nullopt;
  m.proto = w[2];
  for (size_t i = 3; i < w.size(); ++i) m.formats.emplace_back(w[i]);
  return m;
}

// "<pt> <name>/<clock>[/<channels>]"
std::optional<RtpMap> parse_rtpmap(std::string_view value) {
  size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  RtpMap map;
  std::string_view encoding = trim(value.substr(space + 1));
  size_t slash = encoding.find('/');
  if (!parse_number(value.substr(0, space), map.payload_type) || map.payload_type > 127 ||
      slash == std::string_view::npos || slash == 0) {
    return std::nullopt;
  }
  map.encoding = encoding.substr(0, slash);
  std::string_view rest = encoding.substr(slash + 1);
  std::string_view clock = rest.substr(0, rest.find('/'));
  if (!parse_number(clock, map.clock_rate) || map.clock_rate == 0) return std::nullopt;
  if (clock.size() < rest.size() &&
      (!parse_number(rest.substr(clock.size() + 1), map.channels) || map.channels == 0)) {
    return std::nullopt;
  }
  return map;
}

std::optional<Fmtp> parse_fmtp(std::string_view value) {
  size_t space = value.find(' ');
  Fmtp f;
  if (!parse_number(value.substr(0, space), f.payload_type) || f.payload_type > 127) return std::nullopt;
  if (space != std::string_view::npos) f.params = trim(value.substr(space + 1));
  return f;
}

// Media-level a= line. Known attributes that do not parse are kept as plain attributes rather than
// failing the whole description: a bad fmtp must not make a call fail.
void add_media_attribute(MediaDescription& m, const SdpAttribute& a) {
  if (a.name == "rtpmap" && a.has_value) {
    if (auto map = parse_rtpmap(a.value)) return m.rtpmaps.push_back(std::move(*map));
  } else if (a.name == "fmtp" && a.has_value) {
    if (auto f = parse_fmtp(a.value)) return m.fmtps.push_back(std::move(*f));
  } else if (a.name == "ptime" && a.has_value) {
    uint32_t ptime = 0;
    if (parse_number(a.value, ptime) && ptime > 0) return void(m.ptime = ptime);
  } else if (!a.has_value) {
    if (auto d = parse_direction(a.name)) return void(m.direction = d);
  }
  m.attributes.push_back(a);
}

SdpAttribute parse_attribute(std::string_view value) {
  SdpAttribute a;
  size_t colon = value.find(':');
  a.name = value.substr(0, colon);
  if (colon != std::string_view::npos) {
    a.value = value.substr(colon + 1);
    a.has_value = true;
  }
  return a;
}

class Parser {
 public:
  SdpParseResult run(std::string_view text);

 private:
  bool session_line(char type, std::string_view value);
  bool media_line(char type, std::string_view value);
  SdpParseResult fail(std::string why) {
    return {std::nullopt, "line " + std::to_string(line_no_) + ": " + std::move(why)};
  }

  SessionDescription sdp_;
  size_t line_no_ = 0;
  bool saw_version_ = false;
  bool saw_origin_ = false;
  std::string error_;
};

SdpParseResult Parser::run(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no_;
    if (line.empty()) continue;  // tolerated: trailing blank lines, stray CRLFs
    if (line.size() < 2 || line[1] != '=') return fail("not a <type>=<value> line");
    // RFC 4566 §9 byte-string: no value holds CR or NUL. A CR left inside a line would be cut off as
    // line-end whitespace when the description is written and read again (found by the sip_sdp fuzz target).
    if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) return fail("CR or NUL inside a line");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!saw_version_) {
      if (type != 'v') return fail("description must start with v=");
      if (value != "0") return fail("unsupported SDP version");
      saw_version_ = true;
      continue;
    }
    bool ok = sdp_.media.empty() ? session_line(type, value) : media_line(type, value);
    if (!ok) return fail(error_);
  }
  if (!saw_version_) return {std::nullopt, "empty description"};
  if (!saw_origin_) return {std::nullopt, "missing o= line"};
  return {std::move(sdp_), {}};
}

bool Parser::session_line(char type, std::string_view value) {
  switch (type) {
    case 'o': {
      auto origin = parse_origin(value);
      if (!origin) return error_ = "malformed o= line", false;
      sdp_.origin = std::move(*origin);
      saw_origin_ = true;
      return true;
    }
    case 's': sdp_.session_name = value; return true;
    case 't': sdp_.timing = value; return true;
    case 'c': {
      sdp_.connection = parse_connection(value);
      if (!sdp_.connection) return error_ = "malformed c= line", false;
      return true;
    }
    case 'a': {
      SdpAttribute a = parse_attribute(value);
      auto d = a.has_value ? std::nullopt : parse_direction(a.name);
      if (d) sdp_.direction = d; else sdp_.attributes.push_back(std::move(a));
      return true;
    }
    case 'm': return media_line(type, value);
    default: sdp_.other_lines.push_back(std::string(1, type) + "=" + std::string(value)); return true;
  }
}

bool Parser::media_line(char type, std::string_view value) {
  switch (type) {
    case 'm': {
      auto m = parse_media_line(value);
      if (!m) return error_ = "malformed m= line", false;
      sdp_.media.push_back(std::move(*m));
      return true;
    }
    case 'c': {
      auto c = parse_connection(value);
      if (!c) return error_ = "malformed c= line", false;
      sdp_.media.back().connection = std::move(c);
      return true;
    }
    case 'a': add_media_attribute(sdp_.media.back(), parse_attribute(value)); return true;
    default:
      sdp_.media.back().other_lines.push_back(std::string(1, type) + "=" + std::string(value));
      return true;
  }
}

void append_line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}

void append_attribute(std::string& out, const SdpAttribute& a) {
  out += "a=";
  out += a.name;
  if (a.has_value) {
    out += ':';
    out += a.value;
  }
  out += "\r\n";
}

// Appends the kept verbatim lines whose type letter is (or is not) in `types`.
void append_lines_of(std::string& out, const std::vector<std::string>& lines, std::string_view types) {
  for (const auto& l : lines) {
    if (types.find(l[0]) != std::string_view::npos) out += l + "\r\n";
  }
}

void append_lines_except(std::string& out, const std::vector<std::string>& lines,
                         std::string_view types) {
  for (const auto& l : lines) {
    if (types.find(l[0]) == std::string_view::npos) out += l + "\r\n";
  }
}

std::string connection_value(const SdpConnection& c) {
  return c.net_type + " " + c.addr_type + " " + c.address;
}

void serialize_media(std::string& out, const MediaDescription& m) {
  std::string line = m.media + " " + std::to_string(m.port);
  if (m.port_count > 1) line += "/" + std::to_string(m.port_count);
  line += " " + m.proto;
  for (const auto& f : m.formats) line += " " + f;
  append_line(out, 'm', line);
  append_lines_of(out, m.other_lines, "i");  // RFC 4566 §5: i, c, b, k
  if (m.connection) append_line(out, 'c', connection_value(*m.connection));
  append_lines_except(out, m.other_lines, "i");
  for (const auto& r : m.rtpmaps) {
    std::string v = "rtpmap:" + std::to_string(r.payload_type) + " " + r.encoding + "/" +
                    std::to_string(r.clock_rate);
    if (r.channels > 1) v += "/" + std::to_string(r.channels);
    append_line(out, 'a', v);
  }
  for (const auto& f : m.fmtps) {
    append_line(out, 'a', "fmtp:" + std::to_string(f.payload_type) + " " + f.params);
  }
  if (m.ptime) append_line(out, 'a', "ptime:" + std::to_string(*m.ptime));
  for (const auto& a : m.attributes) append_attribute(out, a);
  if (m.direction) append_line(out, 'a', to_string(*m.direction));
}

}  // namespace

std::string_view to_string(MediaDirection direction) {
  switch (direction) {
    case MediaDirection::kSendRecv: return "sendrecv";
    case MediaDirection::kSendOnly: return "sendonly";
    case MediaDirection::kRecvOnly: return "recvonly";
    case MediaDirection::kInactive: return "inactive";
  }
  return "sendrecv";
}

MediaDirection mirror(MediaDirection direction) {
  switch (direction) {
    case MediaDirection::kSendOnly: return MediaDirection::kRecvOnly;
    case MediaDirection::kRecvOnly: return MediaDirection::kSendOnly;
    default: return direction;
  }
}

bool SdpConnection::is_hold_address() const { return address == "0.0.0.0"; }

const RtpMap* MediaDescription::find_rtpmap(uint8_t payload_type) const {
  for (const auto& r : rtpmaps) {
    if (r.payload_type == payload_type) return &r;
  }
  return nullptr;
}

const Fmtp* MediaDescription::find_fmtp(uint8_t payload_type) const {
  for (const auto& f : fmtps) {
    if (f.payload_type == payload_type) return &f;
  }
  return nullptr;
}

std::optional<RtpMap> MediaDescription::codec(uint8_t payload_type) const {
  if (const RtpMap* r = find_rtpmap(payload_type)) return *r;
  return static_payload_type(payload_type);
}

bool MediaDescription::is_rtp() const { return proto.starts_with("RTP/"); }

std::optional<RtpMap> static_payload_type(uint8_t payload_type) {
  // RFC 3551 §6 table 4, audio entries with a fixed clock (G722's 8000 is the RFC's historical quirk).
  switch (payload_type) {
    case 0: return RtpMap{0, "PCMU", 8000, 1};
    case 3: return RtpMap{3, "GSM", 8000, 1};
    case 4: return RtpMap{4, "G723", 8000, 1};
    case 8: return RtpMap{8, "PCMA", 8000, 1};
    case 9: return RtpMap{9, "G722", 8000, 1};
    case 13: return RtpMap{13, "CN", 8000, 1};
    case 18: return RtpMap{18, "G729", 8000, 1};
    default: return std::nullopt;
  }
}

MediaDirection SessionDescription::effective_direction(const MediaDescription& m) const {
  if (m.direction) return *m.direction;
  return direction.value_or(MediaDirection::kSendRecv);
}

const SdpConnection* SessionDescription::effective_connection(const MediaDescription& m) const {
  if (m.connection) return &*m.connection;
  return connection ? &*connection : nullptr;
}

std::string SessionDescription::serialize() const {
  std::string out;
  out.reserve(512);
  append_line(out, 'v', "0");
  append_line(out, 'o', origin.username + " " + std::to_string(origin.session_id) + " " +
                            std::to_string(origin.session_version) + " " + origin.net_type + " " +
                            origin.addr_type + " " + origin.address);
  append_line(out, 's', session_name.empty() ? "-" : session_name);
  // RFC 4566 §5 order: i u e p, c, b, t, r, z, k; a line type we do not know goes before c=.
  append_lines_except(out, other_lines, "btrzk");
  if (connection) append_line(out, 'c', connection_value(*connection));
  append_lines_of(out, other_lines, "b");
  append_line(out, 't', timing);
  append_lines_of(out, other_lines, "rzk");
  for (const auto& a : attributes) append_attribute(out, a);
  if (direction) append_line(out, 'a', to_string(*direction));
  for (const auto& m : media) serialize_media(out, m);
  return out;
}

SdpParseResult parse_sdp(std::string_view text) { return Parser{}.run(text); }

}  // namespace warmline::sip
