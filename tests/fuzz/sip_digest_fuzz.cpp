// libFuzzer target: the digest challenge parser (sip/auth/digest_challenge.cpp). Every input is the
// value of a WWW-Authenticate header: parse_auth_elements and interpret_digest_challenge on each
// element, then select_challenge on a 401 and a 407 carrying it. A usable challenge must have a nonce;
// an unusable one must say why. A DigestClient then answers it for a REGISTER: the Authorization value
// must parse back with the challenge's realm and nonce, and the retried request must still parse (a
// hostile realm or nonce cannot inject a header). Build and run: tests/fuzz/README.md; seeds in corpus/sip_digest/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/auth/digest_challenge.hpp"
#include "sip/auth/digest_client.hpp"
#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::sip;
using namespace warmline::sip::auth;
using warmline::fuzz::require;

void check(const ChallengeParse& parse) {
  if (parse.challenge) {
    require(!parse.challenge->nonce.empty(), "a usable challenge without a nonce");
    require(parse.error == DigestError::kNone, "a usable challenge with an error");
  } else {
    require(parse.error != DigestError::kNone, "an unusable challenge without a reason");
  }
}

constexpr std::string_view kRegister =
    "REGISTER sip:trunk.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKfuzz1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:gw@trunk.example.net>;tag=fz1\r\n"
    "To: <sip:gw@trunk.example.net>\r\n"
    "Call-ID: fuzz-digest@192.0.2.10\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sip:gw@192.0.2.10:5060>\r\n"
    "Content-Length: 0\r\n\r\n";

std::string_view param(const AuthElement& element, std::string_view name) {
  const AuthParam* p = element.param(name);
  return p == nullptr ? std::string_view() : std::string_view(p->value);
}

// Our answer to `response`, as the registrar would read it.
void check_answer(const Message& response, const DigestChallenge& challenge) {
  static const Message request = *parse_message(kRegister).message;
  DigestClient client(DigestCredentials{"gw", "s3cret"});
  RandomSource random(1);
  const DigestAnswer answer = client.answer(request, response, random);
  if (!answer.ok()) return;  // e.g. a realm or nonce that cannot go into a quoted string
  const auto elements = parse_auth_elements(answer.header->value);
  require(elements.has_value() && elements->size() == 1, "our Authorization value does not parse back");
  require(param(elements->front(), "realm") == challenge.realm, "our Authorization names another realm");
  require(param(elements->front(), "nonce") == challenge.nonce, "our Authorization names another nonce");
  Message retry = request;
  set_authorization(retry, *answer.header);
  const ParseResult again = parse_message(serialize(retry));
  require(again.ok(), "the retried request does not parse");
  require(again.message->headers.size() == retry.headers.size(), "the challenge injected a header");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  if (const auto elements = parse_auth_elements(value)) {
    for (const AuthElement& element : *elements) {
      require(!element.scheme.empty(), "an auth element without a scheme");
      require(element.params.empty() || element.token68.empty(), "an auth element with params and token68");
      check(interpret_digest_challenge(element));
    }
  }
  for (int status : {401, 407}) {
    Message response;
    response.is_request = false;
    response.status_code = status;
    response.add_header(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", value);
    const ChallengeParse chosen = select_challenge(response);
    check(chosen);
    if (chosen.challenge) {
      check(select_challenge(response, chosen.challenge->realm));
      check_answer(response, *chosen.challenge);
    }
  }
  return 0;
}
