// Fixture for the REGISTER client: a TransactionLayer on the loopback transport and a fake clock, and
// the test as the registrar: it reads the REGISTERs from the transport and answers through the layer,
// each answer serialized and parsed again as it would cross the wire. Digest answers are checked the
// way a registrar checks them: the response recomputed from the received parameters and the password.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "digest_test_util.hpp"
#include "sip/auth/digest_hash.hpp"
#include "sip/builders.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/testing/fake_timer.hpp"
#include "sip/testing/loopback_transport.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/usage/register_client.hpp"

namespace warmline::sip {

using namespace std::chrono_literals;

class RegisterClientFixture : public ::testing::Test {
 protected:
  static constexpr std::string_view kUser = "gw-user";
  static constexpr std::string_view kPassword = "s3cret";
  static constexpr std::string_view kRealm = "carrier.example";

  RegisterClientOptions options() {
    RegisterClientOptions o;
    o.call_id = "reg-1@192.0.2.10";
    o.registrar.scheme = "sip";
    o.registrar.host = "198.51.100.7";
    o.aor.uri = o.registrar;
    o.aor.uri.user = std::string(kUser);
    o.contact.uri.scheme = "sip";
    o.contact.uri.user = std::string(kUser);
    o.contact.uri.host = "192.0.2.10";
    o.contact.uri.port = 5060;
    o.expires = 3600;
    o.credentials = auth::DigestCredentials{std::string(kUser), std::string(kPassword)};
    o.on_change = [this](const RegistrationStatus& s) { states.push_back(s.state); };
    return o;
  }

  void start(RegisterClientOptions o) {
    client = std::make_unique<RegisterClient>(layer, timers, random, std::move(o));
    ASSERT_TRUE(client->start());
  }
  void start() { start(options()); }

  // The distinct REGISTERs sent (a retransmission repeats its CSeq and is not listed again).
  std::vector<Message> registers() const {
    std::vector<Message> out;
    for (const auto& s : transport.sent())
      if (s.message.is_request && s.message.method == "REGISTER" &&
          (out.empty() || out.back().cseq.number != s.message.cseq.number))
        out.push_back(s.message);
    return out;
  }
  const Message& last_register() const {
    for (auto it = transport.sent().rbegin(); it != transport.sent().rend(); ++it)
      if (it->message.is_request && it->message.method == "REGISTER") return it->message;
    throw std::logic_error("no REGISTER sent");
  }
  size_t register_count() const { return registers().size(); }

  // The registrar's answer to `request`.
  static Message answer(const Message& request, int status) {
    Message r = make_response(request, status, reason_phrase(status));
    r.to.set_tag("registrar-tag");
    return r;
  }
  static std::string challenge(std::string_view nonce, bool stale = false) {
    return "Digest realm=\"" + std::string(kRealm) + "\", nonce=\"" + std::string(nonce) +
           "\", qop=\"auth\", algorithm=MD5" + (stale ? ", stale=true" : "");
  }
  Message challenge_to(const Message& request, std::string_view nonce, bool stale = false, int status = 401) {
    Message r = answer(request, status);
    r.add_header(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", challenge(nonce, stale));
    return r;
  }
  // A 200 that lists our Contact with `;expires=<contact_expires>` (when set) and an Expires header
  // (when set).
  Message ok_to(const Message& request, std::optional<uint32_t> contact_expires,
                std::optional<uint32_t> header_expires = std::nullopt) {
    Message r = answer(request, 200);
    r.contacts = request.contacts;
    if (contact_expires) set_param(r.contacts.front().params, "expires", std::to_string(*contact_expires));
    if (header_expires) r.add_header("Expires", std::to_string(*header_expires));
    return r;
  }

  void deliver(const Message& m) {
    ParseResult parsed = parse_message(serialize(m));
    ASSERT_TRUE(parsed.ok()) << parsed.reason;
    layer.receive(std::move(*parsed.message), registrar);
  }

  // 401, the answer, then a 200 granting `granted` seconds on our Contact.
  void register_with_challenge(uint32_t granted = 3600) {
    start();
    deliver(challenge_to(last_register(), "nonce-1"));
    ASSERT_EQ(register_count(), 2u);
    deliver(ok_to(last_register(), granted));
    ASSERT_EQ(client->status().state, RegistrationState::kRegistered);
  }

  // What a registrar checks: the response recomputed from the received parameters and its own copy of
  // the password, over the Request-URI as sent.
  static void expect_valid_credentials(const Message& request, std::string_view header = "Authorization",
                                       std::string_view nc = "00000001") {
    std::string_view value = request.header(header);
    ASSERT_FALSE(value.empty()) << "no " << header;
    auto p = auth::test::credential_params(value);
    EXPECT_EQ(p["username"], kUser);
    EXPECT_EQ(p["realm"], kRealm);
    EXPECT_EQ(p["uri"], request.request_uri.to_string());
    EXPECT_EQ(p["nc"], nc);
    auth::DigestInput in{.algorithm = auth::DigestAlgorithm::kMd5,
                         .username = kUser,
                         .password = kPassword,
                         .realm = p["realm"],
                         .nonce = p["nonce"],
                         .method = request.method,
                         .uri = p["uri"],
                         .qop = auth::Qop::kAuth,
                         .nc = static_cast<uint32_t>(std::stoul(p["nc"], nullptr, 16)),
                         .cnonce = p["cnonce"],
                         .body = {},
                         .body_hash = {}};
    EXPECT_EQ(auth::compute_response(in), p["response"]);
  }

  std::chrono::steady_clock::duration until_next_attempt() const {
    const auto& next = client->status().next_attempt;
    return next ? *next - timers.now() : std::chrono::steady_clock::duration::max();
  }

  testing::FakeTimerService timers;
  testing::LoopbackTransport transport{{"192.0.2.10", 5060}};
  RandomSource random{11};
  Endpoint registrar{"198.51.100.7", 5060};
  TransactionLayer layer{transport, timers, TransactionHandlers{}};
  std::unique_ptr<RegisterClient> client;
  std::vector<RegistrationState> states;
};

}  // namespace warmline::sip
