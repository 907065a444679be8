// Form bodies and credentials for the providers' REST paths (provider_http.hpp).
#include "server/provider_http.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <span>

#include "ai_bridge/base64.hpp"
#include "server/http_router.hpp"

namespace warmline::server::provider {

namespace {

std::string form_decode(std::string_view s) {
  std::string plus(s);
  std::replace(plus.begin(), plus.end(), '+', ' ');  // before percent-decoding: "%2B" stays a '+'
  return percent_decode(plus);
}

using Digest = std::array<unsigned char, 32>;

// nullopt if libcrypto fails (then no secret matches).
std::optional<Digest> sha256(std::string_view s) {
  Digest d{};
  unsigned int n = 0;
  if (EVP_Digest(s.data(), s.size(), d.data(), &n, EVP_sha256(), nullptr) != 1 || n != d.size()) return std::nullopt;
  return d;
}

// "Basic xyz" -> "xyz" when the scheme is `scheme` (case-insensitive) and a token follows.
std::optional<std::string_view> credentials_of(std::string_view authorization, std::string_view scheme) {
  if (authorization.size() <= scheme.size() + 1) return std::nullopt;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return std::nullopt;
  if (authorization[scheme.size()] != ' ') return std::nullopt;
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

std::optional<Form> parse_form(std::string_view body) {
  Form form;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (form.size() == kMaxFormFields) return std::nullopt;
    const size_t eq = pair.find('=');
    form.emplace_back(form_decode(pair.substr(0, eq)),
                      eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
  }
  return form;
}

std::optional<std::string_view> form_value(const Form& form, std::string_view name) {
  for (const auto& [k, v] : form)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

bool secrets_equal(std::string_view a, std::string_view b) {
  const auto da = sha256(a);
  const auto db = sha256(b);
  return da && db && CRYPTO_memcmp(da->data(), db->data(), da->size()) == 0;
}

bool basic_auth_matches(std::string_view authorization, std::string_view user, std::string_view password) {
  const auto token = credentials_of(authorization, "basic");
  if (!token || token->size() > 1024) return false;
  std::string decoded(ai::base64_decoded_max(token->size()), '\0');
  const auto n = ai::decode_base64(*token, std::span(reinterpret_cast<uint8_t*>(decoded.data()), decoded.size()));
  if (!n) return false;
  decoded.resize(*n);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  // Both halves are always compared, so the time does not say which one was wrong.
  const bool user_ok = secrets_equal(std::string_view(decoded).substr(0, colon), user);
  const bool password_ok = secrets_equal(std::string_view(decoded).substr(colon + 1), password);
  return user_ok && password_ok;
}

bool bearer_auth_matches(std::string_view authorization, std::string_view token) {
  const auto given = credentials_of(authorization, "bearer");
  return given && secrets_equal(*given, token);
}

}  // namespace warmline::server::provider
