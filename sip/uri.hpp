// Parsing and comparison of URIs, name-addrs and Via values (RFC 3261 §19.1, §20.10, §20.42, §25.1).
// The to_string() members of Uri, NameAddr and Via (declared in message.hpp) live in uri.cpp and
// name_addr_via.cpp; the append_* forms write into a caller's buffer (the serializer reuses one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace warmline::sip {

// A URI as it appears in a Request-URI or inside <...>. sip/sips are split into their parts (user,
// password, params and header values stay %-escaped as on the wire); any other scheme keeps its
// text in `opaque`. Rejects LWS, controls and malformed parts; never throws.
std::optional<Uri> parse_uri(std::string_view text);

// name-addr (`"Display" <uri>;params`, `Display <uri>`) or addr-spec (`uri;params`). For an addr-spec,
// every ';' parameter after the URI is a header parameter (RFC 3261 §20.10), and a URI holding '?' or
// ',' must be in <> (RFC 4475 regbadct). Surrounding LWS is allowed.
std::optional<NameAddr> parse_name_addr(std::string_view text);

// A comma-separated list of name-addrs (Contact, Route, Record-Route values); empty elements fail.
std::optional<std::vector<NameAddr>> parse_name_addr_list(std::string_view text);

// One Via header value, possibly holding several comma-separated via-parms, appended to `out`.
// LWS is allowed around '/', ';' and '=' (RFC 4475 wsinv).
bool parse_via_list(std::string_view text, std::vector<Via>& out);

// %XX -> octet. A '%' that does not start a valid escape is kept literally (RFC 4475 esc02). NULs
// are kept (escnull): the result's size() is the length, never strlen().
std::string uri_unescape(std::string_view text);

// RFC 3261 §19.1.4 comparison: scheme, user and password compared after unescaping and case-
// sensitively; host case-insensitively; an explicit port never equals an absent one; user, ttl,
// method, maddr and transport params must match when either URI has them, other params only when
// both have them; URI headers must all match. Non-SIP URIs compare scheme and unescaped opaque part.
bool uri_equal(const Uri& a, const Uri& b);

// The transport a request to this URI uses (RFC 3261 §19.1.2, RFC 3263 §4.1 without NAPTR): sips: or
// ;transport=tls is TLS, ;transport=tcp TCP, anything else UDP.
Protocol uri_protocol(const Uri& uri);

// Append the wire form to `out` (what to_string() returns), without a temporary string.
void append_uri(std::string& out, const Uri& uri);
void append_name_addr(std::string& out, const NameAddr& addr);  // always <> form
void append_via(std::string& out, const Via& via);

}  // namespace warmline::sip
