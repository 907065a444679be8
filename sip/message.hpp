// The SIP message model (RFC 3261 §7) shared by the parser, the serializer, transactions, dialogs and
// the server.
//
// Design: the headers every layer needs for matching and routing (Via, From, To, Call-ID, CSeq,
// Max-Forwards, Contact, Route, Record-Route, Content-Type) are typed fields and are the only copy of
// those headers; every other header stays as text in `headers`, in wire order, with its name expanded
// from the compact form (`r` -> `Refer-To`). Content-Length is never stored: serialize() derives it
// from `body`, so a message cannot carry a length that lies about its body.
//
// The parser fills the typed fields only after validating them, so a parsed Message is always
// well-formed. Code that builds messages fills the fields directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warmline::sip {

// `;name=value` or `;name` (has_value false). Names compare case-insensitively.
struct Param {
  std::string name;
  std::string value;
  bool has_value = false;
};

const Param* find_param(const std::vector<Param>& params, std::string_view name);
// Sets (or adds) a parameter with a value.
void set_param(std::vector<Param>& params, std::string_view name, std::string_view value);

// A URI. For sip/sips the parts are split out (user and password are kept %-escaped as on the wire);
// for any other scheme (tel, http, urn, ...) only `scheme` and `opaque` are set.
struct Uri {
  std::string scheme;              // lower-case: "sip", "sips", "tel", ...
  std::string user;                // may be empty; may contain ';' params of the user part (RFC 4475 semiuri)
  std::string password;
  std::string host;                // IPv6 references keep their brackets: "[::1]"
  uint16_t port = 0;               // 0 = not given
  std::vector<Param> params;       // uri-parameters
  std::vector<Param> headers;      // ?name=value&... (values %-escaped as on the wire)
  std::string opaque;              // everything after "scheme:" for non-SIP schemes

  bool is_sip() const { return scheme == "sip" || scheme == "sips"; }
  std::string to_string() const;
};

// name-addr / addr-spec with header parameters (From, To, Contact, Route, Refer-To, Referred-By).
struct NameAddr {
  std::string display;             // unquoted display name (may be empty)
  Uri uri;
  std::vector<Param> params;       // header params (tag, expires, ...)

  std::string_view tag() const;    // "" when there is no tag
  void set_tag(std::string_view tag) { set_param(params, "tag", tag); }
  std::string to_string() const;   // always in <> form
};

struct Via {
  std::string transport = "UDP";   // upper-case as given: UDP, TCP, TLS, SCTP, or any token
  std::string host;
  uint16_t port = 0;               // 0 = not given (5060 implied for UDP)
  std::vector<Param> params;       // branch, received, rport, maddr, ttl, ...

  std::string_view branch() const;
  std::string to_string() const;
};

struct CSeq {
  uint32_t number = 0;
  std::string method;
};

struct Header {
  std::string name;                // canonical long form for known compact names, else as received
  std::string value;               // trimmed, unfolded
};

struct Message {
  bool is_request = true;
  // request line
  std::string method;              // case-sensitive token exactly as received
  Uri request_uri;
  // status line
  int status_code = 0;
  std::string reason;

  // typed headers
  std::vector<Via> vias;           // topmost first
  NameAddr from;
  NameAddr to;
  std::string call_id;
  CSeq cseq;
  std::optional<uint32_t> max_forwards;
  std::vector<NameAddr> contacts;
  bool contact_star = false;       // "Contact: *"
  std::vector<NameAddr> routes;
  std::vector<NameAddr> record_routes;
  std::string content_type;        // "" = no body type

  std::vector<Header> headers;     // everything else
  std::string body;

  // Generic header access (case-insensitive, compact names accepted) over `headers` only.
  const Header* find_header(std::string_view name) const;
  std::string_view header(std::string_view name) const;  // "" when absent
  void add_header(std::string_view name, std::string_view value);
  void set_header(std::string_view name, std::string_view value);  // replaces every instance
  void remove_header(std::string_view name);
};

bool iequals(std::string_view a, std::string_view b);
// Expands a compact header name (RFC 3261 §7.3.3 and extensions) to its long form; returns the input
// unchanged otherwise.
std::string_view canonical_header_name(std::string_view name);

}  // namespace warmline::sip
