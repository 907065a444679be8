#include "sip/auth/digest_client.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "sip/parser_grammar.hpp"

namespace warmline::sip::auth {

namespace {

// 16 characters of [0-9a-zA-Z]: about 95 bits, above the 64 that RFC 7616 §3.4 asks of a cnonce.
constexpr size_t kCnonceLength = 16;

struct Carried {
  std::string nonce;
  uint32_t nc = 0;  // 0 when absent (the RFC 2069 form has none)
};

uint32_t parse_nc(std::string_view s) {
  if (s.empty() || s.size() > 8) return 0;
  uint32_t v = 0;
  for (char c : s) {
    if (!grammar::is_hex(c)) return 0;
    v = (v << 4) | static_cast<uint32_t>(grammar::hex_value(c));
  }
  return v;
}

// The Digest credentials for `realm` that `request` carried in the header `name`, if any.
std::optional<Carried> carried_credentials(const Message& request, std::string_view name, std::string_view realm) {
  for (const Header& h : request.headers) {
    if (!iequals(h.name, name)) continue;
    auto elements = parse_auth_elements(h.value);
    if (!elements) continue;
    for (const AuthElement& e : *elements) {
      const AuthParam* r = e.param("realm");
      if (!iequals(e.scheme, "Digest") || r == nullptr || r->value != realm) continue;
      Carried c;
      if (const AuthParam* nonce = e.param("nonce")) c.nonce = nonce->value;
      if (const AuthParam* nc = e.param("nc")) c.nc = parse_nc(nc->value);
      return c;
    }
  }
  return std::nullopt;
}

std::optional<std::string> realm_of(std::string_view credentials) {
  auto elements = parse_auth_elements(credentials);
  if (!elements || elements->size() != 1) return std::nullopt;
  const AuthParam* r = elements->front().param("realm");
  return r ? std::optional<std::string>(r->value) : std::nullopt;
}

}  // namespace

DigestClient::DigestClient(DigestCredentials credentials, std::string realm)
    : credentials_(std::move(credentials)), realm_(std::move(realm)) {}

DigestAnswer DigestClient::answer(const Message& request, const Message& response, RandomSource& random) {
  ChallengeParse selected = select_challenge(response, realm_);
  if (!selected.challenge) return {std::nullopt, selected.error};
  DigestChallenge& c = *selected.challenge;

  // Did the challenged request already carry our answer for this realm? Then this is the server's
  // verdict on it (RFC 3261 §22.2: "the client SHOULD NOT re-attempt with the same credentials").
  auto carried = carried_credentials(request, credentials_header_name(c.proxy), c.realm);
  if (carried) {
    if (!c.stale) return {std::nullopt, DigestError::kCredentialsRejected};
    // stale=true says the credentials were right and only the nonce expired (RFC 7616 §3.3), so one
    // retry with the new nonce is due, but not a second one in a row: nc <= 1 means the nonce of our
    // stale retry was refused on its first use, so the next would be too.
    if (!stale_nonce_.empty() && carried->nonce == stale_nonce_ && carried->nc <= 1)
      return {std::nullopt, DigestError::kStaleRepeated};
    stale_nonce_ = c.nonce;
  }

  if (!challenge_ || challenge_->nonce != c.nonce) nc_ = 0;  // nc counts per nonce
  if (realm_.empty()) realm_ = c.realm;
  challenge_ = std::move(c);
  return build(request, random);
}

std::optional<AuthorizationHeader> DigestClient::authorize(const Message& request, RandomSource& random) {
  if (!challenge_) return std::nullopt;
  return build(request, random).header;
}

DigestAnswer DigestClient::build(const Message& request, RandomSource& random) {
  // nc must grow for one nonce (the server's replay check); past 2^32-1 there is no next value.
  if (nc_ == std::numeric_limits<uint32_t>::max()) return {std::nullopt, DigestError::kInvalidInput};
  const std::string uri = request.request_uri.to_string();
  const std::string cnonce = random.token(kCnonceLength);
  BuiltAuthorization built = build_authorization(*challenge_, credentials_,
                                                 {.method = request.method,
                                                  .uri = uri,
                                                  .body = request.body,
                                                  .nc = nc_ + 1,
                                                  .cnonce = cnonce});
  if (!built.ok()) return {std::nullopt, built.error};
  ++nc_;
  return {AuthorizationHeader{credentials_header_name(challenge_->proxy), std::move(built.value)}, {}};
}

void set_authorization(Message& request, const AuthorizationHeader& header) {
  const std::optional<std::string> realm = realm_of(header.value);
  std::erase_if(request.headers, [&](const Header& h) {
    return iequals(h.name, header.name) && realm && realm_of(h.value) == realm;
  });
  request.add_header(header.name, header.value);
}

}  // namespace warmline::sip::auth
