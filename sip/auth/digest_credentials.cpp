#include "sip/auth/digest_credentials.hpp"

#include "sip/parser_grammar.hpp"

namespace warmline::sip::auth {

namespace {

// A quoted-string can carry any octet but CR and LF (quoted-pair, RFC 3261 §25.1).
bool quotable(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

// RFC 7616 cnonces are often base64 ('/', '+', '='), so not a token; but only visible ASCII that needs
// no escaping, so what we hash is exactly what the peer reads.
bool plain_cnonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return false;
  return true;
}

// Appends `name="value"`, escaping what qdtext cannot hold: '"', '\' and control characters become
// quoted-pairs, so the peer unquotes exactly the bytes we hashed.
void append_quoted(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f) out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
}

void append_bare(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out.push_back('=');
  out += value;
}

}  // namespace

BuiltAuthorization build_authorization(const DigestChallenge& challenge, const DigestCredentials& credentials,
                                       const AuthorizationInput& input) {
  const bool with_qop = challenge.qop != Qop::kNone;
  if (!quotable(credentials.username) || !quotable(challenge.realm) || !quotable(challenge.nonce) ||
      !quotable(challenge.opaque.value_or("")) || !grammar::is_token(input.method) || input.uri.empty() ||
      !quotable(input.uri) || (with_qop && !plain_cnonce(input.cnonce)))
    return {{}, DigestError::kInvalidInput};

  DigestInput in{
      .algorithm = challenge.algorithm,
      .username = credentials.username,
      .password = credentials.password,
      .realm = challenge.realm,
      .nonce = challenge.nonce,
      .method = input.method,
      .uri = input.uri,
      .qop = challenge.qop,
      .nc = input.nc,
      .cnonce = input.cnonce,
      .body = input.body,
      .body_hash = {},
  };
  auto response = compute_response(in);
  if (!response) return {{}, DigestError::kHashFailed};

  std::string username = credentials.username;
  if (challenge.userhash) {  // RFC 7616 §3.4.4: the server looks the user up by this hash
    std::string joined = credentials.username;
    joined += ':';
    joined += challenge.realm;
    auto hashed = hash_hex(challenge.algorithm, joined);
    if (!hashed) return {{}, DigestError::kHashFailed};
    username = std::move(*hashed);
  }

  std::string out = "Digest ";
  append_quoted(out, "username", username);
  append_quoted(out += ", ", "realm", challenge.realm);
  append_quoted(out += ", ", "nonce", challenge.nonce);
  append_quoted(out += ", ", "uri", input.uri);
  append_quoted(out += ", ", "response", *response);
  append_bare(out += ", ", "algorithm", algorithm_name(challenge.algorithm));
  if (with_qop) append_quoted(out += ", ", "cnonce", input.cnonce);
  if (challenge.opaque) append_quoted(out += ", ", "opaque", *challenge.opaque);
  if (with_qop) {
    append_bare(out += ", ", "qop", qop_name(challenge.qop));
    append_bare(out += ", ", "nc", format_nonce_count(input.nc));
  }
  if (challenge.userhash) append_bare(out += ", ", "userhash", "true");
  return {std::move(out), DigestError::kNone};
}

}  // namespace warmline::sip::auth
