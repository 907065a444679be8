// The media address a peer's SDP named last, for both kinds of leg: the media follows a new address,
// and only a new one. Session refreshes and repeated answers carry the same SDP again, and re-aiming
// RTP for them would re-arm the latch, so a NATed peer's stream (latched to its public address) would
// have to be learned again.
// Thread: the leg's shard.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <string>

#include "server/leg/leg_media.hpp"

namespace warmline::server {

class SdpRemote {
 public:
  // Remembers `address`:`port` (port 0: none yet) without touching the media (the session was opened
  // with it).
  void set(std::string address, uint16_t port) {
    address_ = std::move(address);
    port_ = port;
  }
  // Points `media` at `address`:`port` when that differs from the last one named; a port 0 or an
  // address that is not an IP literal changes nothing.
  void follow(MediaSession& media, const std::string& address, uint16_t port) {
    if (port == 0 || (address == address_ && port == port_)) return;
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(address, ec);
    if (ec) return;
    set(address, port);
    media.set_remote(boost::asio::ip::udp::endpoint(ip, port));
  }

 private:
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace warmline::server
