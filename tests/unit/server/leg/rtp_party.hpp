// The far side of one leg in the LegMedia tests: a plain UDP socket on 127.0.0.1 that sends RTP to the
// leg and reads what the leg sends it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "rtp/packet.hpp"

namespace warmline::server::test {

struct Received {
  rtp::RtpPacketView view;
  std::vector<uint8_t> bytes;  // the datagram the view points into
  std::vector<uint8_t> payload() const { return {view.payload.begin(), view.payload.end()}; }
};

struct Party {
  boost::asio::ip::udp::socket socket;
  uint16_t seq = 100;
  uint32_t ts = 5000;
  uint32_t ssrc;

  Party(boost::asio::io_context& io, uint32_t ssrc_)
      : socket(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)), ssrc(ssrc_) {
    socket.non_blocking(true);
  }
  boost::asio::ip::udp::endpoint endpoint() const { return socket.local_endpoint(); }

  void send(uint16_t port, uint8_t pt, std::span<const uint8_t> payload, uint32_t samples, bool marker = false) {
    std::vector<uint8_t> d(12 + payload.size());
    size_t h = rtp::write_rtp_header(d, {.payload_type = pt, .marker = marker, .sequence = seq++, .timestamp = ts, .ssrc = ssrc});
    std::copy(payload.begin(), payload.end(), d.begin() + static_cast<long>(h));
    ts += samples;
    socket.send_to(boost::asio::buffer(d),
                   boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  // Every packet that has arrived by now (the legs send synchronously from the io thread's handlers).
  std::vector<Received> drain() {
    std::vector<Received> out;
    for (int i = 0; i < 1000; ++i) {
      Received r;
      r.bytes.resize(1500);
      boost::system::error_code ec;
      size_t n = socket.receive(boost::asio::buffer(r.bytes), 0, ec);
      if (ec) break;
      r.bytes.resize(n);
      if (rtp::parse_rtp(r.bytes, r.view) != rtp::RtpParseStatus::kOk) continue;
      out.push_back(std::move(r));
    }
    return out;
  }
};

}  // namespace warmline::server::test
