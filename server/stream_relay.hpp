// The TCP/TLS transport as a shard other than the stream shard sees it. Every TCP and TLS connection of
// the node lives on shard 0 (docs/sip.md "TCP and TLS"); another shard's transaction layer sends
// through this relay, which serializes the message on its own thread and posts the bytes to shard 0.
// The send cannot fail here: a connection that fails later drops the message, and the transaction's
// timers report it, as for a message lost over UDP.
//
// Threading: one per shard and protocol, used on its shard's thread only.
#pragma once

#include <functional>
#include <string>

#include "sip/serializer.hpp"
#include "sip/transport.hpp"

namespace warmline::server {

class StreamRelay final : public sip::Transport {
 public:
  using Post = std::function<void(std::string bytes, const sip::Endpoint& to)>;

  StreamRelay(sip::Endpoint sent_by, Post post) : sent_by_(std::move(sent_by)), post_(std::move(post)) {}

  std::error_code send(const sip::Message& message, const sip::Endpoint& to) override {
    std::string bytes;
    sip::serialize_to(message, bytes);
    post_(std::move(bytes), to);
    return {};
  }
  sip::Endpoint local() const override { return sent_by_; }
  std::string_view via_transport() const override { return sip::via_token(sent_by_.protocol); }

 private:
  sip::Endpoint sent_by_;
  Post post_;
};

}  // namespace warmline::server
