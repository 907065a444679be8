// The messages an outbound INVITE session (sip/usage/invite_client_session.hpp) builds: the initial
// INVITE (RFC 3261 §8.1.1, §13.2.1), the ACK for a 2xx (§13.2.2.4), and the responses it sends inside
// its dialog. Pure functions over values; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/dialog.hpp"
#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace warmline::sip {

// What the INVITE carries besides the SDP offer.
struct InviteRequestFields {
  std::string call_id;
  Uri request_uri;
  NameAddr from;                      // with our tag
  NameAddr to;                        // without a tag
  NameAddr contact;
  uint32_t cseq = 1;
  std::string allow;                  // "" = no Allow header
  std::string supported;              // "" = no Supported header
  std::vector<Header> extra_headers;  // P-Asserted-Identity, Privacy, X-..., in order
  std::string sdp_offer;              // "" = no body
};

// §8.1.1: Request-URI, To, From, Call-ID, CSeq, Max-Forwards 70, Contact, then Allow, Supported, the
// extra headers and the offer as application/sdp. The Via is added by the transaction layer.
Message make_invite(const InviteRequestFields& fields);

// §13.2.2.4: the ACK for a 2xx to `invite`, built like any request inside `dialog` (its route set and
// remote target) but with the INVITE's CSeq number, and "the same credentials in the ACK as in the
// INVITE" (§22.1): Authorization and Proxy-Authorization are copied from the INVITE as sent.
Message make_2xx_ack(const Dialog& dialog, const Message& invite);

// A response to a request inside our dialog: To carries our tag (the request's To already has it) and
// a 2xx carries our Contact (§12.2.2: a target-refresh answer names our target).
Message make_dialog_response(const Message& request, int status, std::string_view reason,
                             const NameAddr& local_contact);

// A message with a body of type application/sdp (parameters ignored).
bool has_sdp(const Message& message);

// An IPv4 or IPv6 literal (brackets allowed) that a transport can send to without resolution.
bool is_ip_literal(std::string_view host);

// Where the INVITE goes when no next hop was given: the Request-URI's host and port (5060, or 5061
// for sips). nullopt when the host is a name (the caller resolves names, RFC 3263).
std::optional<Endpoint> endpoint_of(const Uri& uri);

}  // namespace warmline::sip
