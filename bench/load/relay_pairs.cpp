#include "bench/load/relay_pairs.hpp"

#include <charconv>
#include <optional>

#include "bench/load/run_common.hpp"

namespace warmline::load {

namespace {

std::optional<uint16_t> port_of(std::string_view s) {
  uint16_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

RelayPairsResult parse_relay_pairs(std::string_view text) {
  RelayPairsResult r;
  size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    auto f = fields_of(line);
    if (f.empty() || f[0].front() == '#') continue;
    auto to = f.size() >= 2 && f.size() <= 3 ? parse_endpoint(std::string(f[0])) : std::nullopt;
    auto recv = f.size() >= 2 ? port_of(f[1]) : std::nullopt;
    auto send = f.size() == 3 ? port_of(f[2]) : std::optional<uint16_t>(uint16_t{0});
    if (!to || !recv || !send) {
      r.pairs.clear();
      r.error = std::to_string(line_no) + ": expected \"SENDTO_IP:PORT RECV_LOCAL_PORT [SEND_LOCAL_PORT]\", got \"" +
                std::string(line) + "\"";
      return r;
    }
    r.pairs.push_back({*to, *recv, *send});
  }
  if (r.pairs.empty()) r.error = "no pairs in the file";
  return r;
}

}  // namespace warmline::load
