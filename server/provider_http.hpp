// What the providers' REST call-control paths share (provider_api.hpp): decoding the form bodies of
// Twilio's and Plivo's APIs, and checking the credentials a bot sends the way each provider checks
// them — HTTP Basic account:secret (Twilio, Plivo; RFC 7617) or a Bearer token (Telnyx; RFC 6750).
// Secrets are compared in constant time.
//
// Thread: none; pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warmline::server::provider {

// application/x-www-form-urlencoded (the WHATWG URL standard's parser): '&'-separated name=value
// pairs ('=' and the value may be missing), '+' is a space, percent-escapes decoded (a malformed one
// is kept as written), empty pairs skipped. nullopt beyond kMaxFormFields pairs.
inline constexpr std::size_t kMaxFormFields = 64;
using Form = std::vector<std::pair<std::string, std::string>>;
std::optional<Form> parse_form(std::string_view body);
// The first value of `name` (names are case-sensitive, as Twilio's parameters are), or nullopt.
std::optional<std::string_view> form_value(const Form& form, std::string_view name);

// a == b, in a time that depends on neither where they first differ nor their lengths (their SHA-256
// digests are compared with CRYPTO_memcmp).
bool secrets_equal(std::string_view a, std::string_view b);

// The Authorization header `authorization` is `Basic base64(user ":" password)` for exactly this user
// and password (the scheme's name is case-insensitive, RFC 9110 §11.1).
bool basic_auth_matches(std::string_view authorization, std::string_view user, std::string_view password);
// The Authorization header is `Bearer <token>` for exactly this token.
bool bearer_auth_matches(std::string_view authorization, std::string_view token);

}  // namespace warmline::server::provider
