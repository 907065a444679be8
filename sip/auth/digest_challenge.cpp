#include "sip/auth/digest_challenge.hpp"

#include <utility>

#include "sip/parser_grammar.hpp"

namespace warmline::sip::auth {

namespace {

using grammar::is_token_char;
using grammar::is_wsp;
using grammar::skip_lws;

size_t token_length(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  return n;
}

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235 §2.1)
bool is_token68(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && (grammar::is_alnum(s[n]) || s[n] == '-' || s[n] == '.' || s[n] == '_' ||
                          s[n] == '~' || s[n] == '+' || s[n] == '/'))
    ++n;
  if (n == 0) return false;
  while (n < s.size() && s[n] == '=') ++n;
  return n == s.size();
}

// An unquoted value: one run of visible characters. Servers in the field send base64 nonces and
// algorithm names unquoted, so this admits more than `token`, but never spaces, quotes or controls.
bool is_bare_value(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '"') return false;
  }
  return true;
}

// `name BWS "=" BWS value` where the element `s` is exactly that (already split at commas).
bool parse_param(std::string_view s, AuthParam& out) {
  const size_t n = token_length(s);
  if (n == 0) return false;
  std::string_view rest = s.substr(n);
  skip_lws(rest);
  if (rest.empty() || rest[0] != '=') return false;
  rest.remove_prefix(1);
  skip_lws(rest);
  out.name = s.substr(0, n);
  if (!rest.empty() && rest[0] == '"') {
    auto len = grammar::quoted_string_length(rest);
    if (!len || !grammar::trim(rest.substr(*len)).empty()) return false;
    out.value = grammar::unquote(rest.substr(0, *len));
    out.quoted = true;
    return true;
  }
  rest = grammar::trim(rest);
  if (!is_bare_value(rest)) return false;
  out.value = rest;
  out.quoted = false;
  return true;
}

bool add_param(AuthElement& element, AuthParam param) {
  if (element.param(param.name) != nullptr) return false;  // RFC 7235 §2.1: each name at most once
  element.params.push_back(std::move(param));
  return true;
}

// The part of a new element after its scheme and whitespace: a first parameter or a token68.
bool parse_first_after_scheme(std::string_view rest, AuthElement& element) {
  if (is_token68(rest)) {  // checked first: "abc==" is a token68, "realm=x" is not
    element.token68 = rest;
    return true;
  }
  AuthParam param;
  return parse_param(rest, param) && add_param(element, std::move(param));
}

// One comma-separated element: a new challenge (`scheme [SP param-or-token68]`) or one more
// parameter of the current one.
bool parse_element(std::string_view e, std::vector<AuthElement>& out) {
  const size_t n = token_length(e);
  if (n == 0) return false;
  std::string_view rest = e.substr(n);
  std::string_view after = rest;
  skip_lws(after);
  if (!after.empty() && after[0] == '=') {  // a parameter of the current element
    if (out.empty() || !out.back().token68.empty()) return false;
    AuthParam param;
    return parse_param(e, param) && add_param(out.back(), std::move(param));
  }
  if (!after.empty() && !is_wsp(rest[0])) return false;  // "Digest\"x\"": no space after the scheme
  out.push_back(AuthElement{std::string(e.substr(0, n)), {}, {}});
  return after.empty() || parse_first_after_scheme(after, out.back());
}

bool is_true(const AuthParam* p) { return p != nullptr && iequals(p->value, "true"); }

// Splits at spaces, tabs and (for qop, whose list is comma-separated inside its quotes) commas.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_wsp(s[i]) || s[i] == ',')) ++i;
    size_t start = i;
    while (i < s.size() && !is_wsp(s[i]) && s[i] != ',') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// The qop we answer with: auth when offered (RFC 7616 §3.4: a client picks one it supports), else
// auth-int, which we can compute because the request body is at hand when the challenge arrives.
std::optional<Qop> choose_qop(const AuthParam* p) {
  if (p == nullptr) return Qop::kNone;
  bool auth = false, auth_int = false;
  for (std::string_view item : split_list(p->value)) {
    auth = auth || iequals(item, "auth");
    auth_int = auth_int || iequals(item, "auth-int");
  }
  if (auth) return Qop::kAuth;
  if (auth_int) return Qop::kAuthInt;
  return std::nullopt;
}

// Orders the "why not" of several unusable challenges: the most telling one is reported.
int error_rank(DigestError e) {
  switch (e) {
    case DigestError::kRealmMismatch: return 4;
    case DigestError::kMalformed: return 2;
    case DigestError::kNotDigest: return 1;
    case DigestError::kNoChallenge: return 0;
    default: return 3;  // a Digest challenge we read but cannot answer
  }
}

}  // namespace

const AuthParam* AuthElement::param(std::string_view name) const {
  for (const auto& p : params)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::optional<std::vector<AuthElement>> parse_auth_elements(std::string_view value) {
  std::vector<std::string_view> parts;
  if (!grammar::split_commas(value, parts)) return std::nullopt;
  std::vector<AuthElement> out;
  for (std::string_view part : parts) {
    if (part.empty()) continue;  // "#rule" lists allow empty elements (RFC 7230 §7)
    if (!parse_element(part, out)) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

ChallengeParse interpret_digest_challenge(const AuthElement& element) {
  if (!iequals(element.scheme, "Digest")) return {std::nullopt, DigestError::kNotDigest};
  if (!element.token68.empty()) return {std::nullopt, DigestError::kMalformed};
  const AuthParam* realm = element.param("realm");
  if (realm == nullptr) return {std::nullopt, DigestError::kMissingRealm};
  const AuthParam* nonce = element.param("nonce");
  if (nonce == nullptr || nonce->value.empty()) return {std::nullopt, DigestError::kMissingNonce};

  DigestChallenge c;
  if (const AuthParam* alg = element.param("algorithm")) {
    auto a = algorithm_from_name(alg->value);
    if (!a) return {std::nullopt, DigestError::kUnsupportedAlgorithm};
    c.algorithm = *a;
  }
  auto qop = choose_qop(element.param("qop"));
  if (!qop) return {std::nullopt, DigestError::kUnsupportedQop};
  // -sess hashes the cnonce into A1, and without qop there is no cnonce (RFC 2617 §3.2.2).
  if (*qop == Qop::kNone && is_session_algorithm(c.algorithm))
    return {std::nullopt, DigestError::kUnsupportedAlgorithm};
  c.qop = *qop;
  c.realm = realm->value;
  c.nonce = nonce->value;
  if (const AuthParam* opaque = element.param("opaque")) c.opaque = opaque->value;
  c.stale = is_true(element.param("stale"));
  c.userhash = is_true(element.param("userhash"));
  if (const AuthParam* domain = element.param("domain"))
    for (std::string_view uri : split_list(domain->value)) c.domain.emplace_back(uri);
  return {std::move(c), DigestError::kNone};
}

ChallengeParse select_challenge(const Message& response, std::string_view realm) {
  if (response.is_request || (response.status_code != 401 && response.status_code != 407))
    return {std::nullopt, DigestError::kNoChallenge};
  const std::string_view name = challenge_header_name(response.status_code);
  std::optional<DigestChallenge> best;
  DigestError error = DigestError::kNoChallenge;
  auto note = [&error](DigestError e) {
    if (error_rank(e) > error_rank(error)) error = e;  // strict: the first of equal rank stays
  };
  for (const Header& h : response.headers) {
    if (!iequals(h.name, name)) continue;
    auto elements = parse_auth_elements(h.value);
    if (!elements) {
      note(DigestError::kMalformed);
      continue;
    }
    for (const AuthElement& element : *elements) {
      ChallengeParse p = interpret_digest_challenge(element);
      if (!p.challenge) {
        note(p.error);
      } else if (!realm.empty() && p.challenge->realm != realm) {
        note(DigestError::kRealmMismatch);
      } else if (!best || algorithm_strength(p.challenge->algorithm) > algorithm_strength(best->algorithm)) {
        best = std::move(p.challenge);
      }
    }
  }
  if (!best) return {std::nullopt, error};
  best->proxy = response.status_code == 407;
  return {std::move(best), DigestError::kNone};
}

std::string_view challenge_header_name(int status) {
  return status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
}

std::string_view credentials_header_name(bool proxy) {
  return proxy ? "Proxy-Authorization" : "Authorization";
}

}  // namespace warmline::sip::auth
