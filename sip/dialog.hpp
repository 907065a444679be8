// A SIP dialog (RFC 3261 §12): the state two UAs share after an INVITE (or SUBSCRIBE/REFER) is
// answered, and the construction of requests inside it.
//
// Threading: a Dialog belongs to its call's shard; it is plain data with no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace warmline::sip {

// §12: a dialog is identified by Call-ID, local tag and remote tag.
struct DialogId {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;

  bool operator==(const DialogId&) const = default;
  // The id a message received by this UA belongs to: for a request the local tag is in To, for a
  // response it is in From.
  static DialogId of_incoming(const Message& message);
  // The id a message sent by this UA belongs to.
  static DialogId of_outgoing(const Message& message);
};

struct DialogIdHash {
  size_t operator()(const DialogId& id) const noexcept;
};

struct Dialog {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  Uri local_uri;                       // From URI of our requests
  Uri remote_uri;                      // To URI of our requests
  Uri remote_target;                   // the peer's Contact: Request-URI of our requests
  NameAddr local_contact;              // our Contact in target-refresh requests
  std::vector<NameAddr> route_set;     // in the order our requests carry them
  std::optional<uint32_t> local_cseq;  // empty until we send a request (§12.1.1)
  std::optional<uint32_t> remote_cseq; // empty until the peer sends one (§12.1.2)
  bool secure = false;                 // sips Request-URI over TLS (§12.1.1)
  // Over TCP/TLS: the connection the peer's requests came over; our requests in the dialog reuse it
  // (§18.2.2's connection reuse, RFC 5923's idea) rather than open one to the remote target.
  std::optional<Endpoint> flow;

  DialogId id() const { return {call_id, local_tag, remote_tag}; }

  // §12.1.1: the UAS side, from the INVITE we received and the tag we put in our To.
  static Dialog from_uas(const Message& invite, std::string local_tag, const NameAddr& local_contact);
  // §12.1.2: the UAC side, from the request we sent and a 1xx (with To tag) or 2xx response to it.
  static Dialog from_uac(const Message& request, const Message& response);

  // §12.2.1.1: a request inside the dialog (Request-URI, Route set, CSeq = local + 1, From/To with
  // tags, Call-ID, Max-Forwards 70, our Contact). The Via is added by TransactionLayer::send_request.
  // Use make_ack for ACK (it reuses the INVITE's CSeq number).
  Message make_request(std::string_view method);
  // §13.2.2.4: the ACK for a 2xx to the INVITE with CSeq `invite_cseq`.
  Message make_ack(uint32_t invite_cseq) const;

  // Whether a message received by this UA belongs to this dialog (Call-ID and both tags).
  bool matches(const Message& message) const;

  // §12.2.2: records the CSeq of an in-dialog request from the peer; false means it is out of order
  // (lower than the last one) and the UAS must answer 500.
  bool accept_remote_cseq(uint32_t cseq);

  // §12.2.1.1 + §8.1.2: where to send an in-dialog request: the flow when there is one, else the first
  // Route (loose or strict routing alike) or, without a route set, the remote target, over the
  // protocol its URI names (sips: or ;transport=tls: TLS; ;transport=tcp: TCP). The host may still
  // need RFC 3263 resolution.
  Endpoint next_hop() const;

  // §12.2 target refresh: a re-INVITE/UPDATE (or its 2xx) with a Contact replaces the remote target.
  void refresh_target(const Message& message);

 private:
  void fill_request_uri_and_routes(Message& request) const;
  Message base_request(std::string_view method, uint32_t cseq) const;
};

}  // namespace warmline::sip
