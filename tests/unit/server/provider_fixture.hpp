// The providers' REST paths (server/provider_api.hpp) against real calls on the call fixture's shard:
// the fixture's agents are given provider protocols and credentials, and requests go through an
// HttpRouter holding the provider routes, whose CallLocator finds the call in place (the test's thread
// is the shard's).
//   demo       twilio, account AC0123, api_key tw-s3cret   (carrier trunk: accepts REFER)
//   forwarding telnyx, api_key KEY_tx                       (carrier trunk)
//   plain      plivo,  account MA1234, api_key pl-s3cret
//   dialer     twilio, no account, no api_key               (numbers through trunk "provider")
#pragma once

#include <fmt/format.h>

#include <cctype>

#include "call_fixture.hpp"
#include "server/provider_api.hpp"

namespace warmline::server {

// Records what a Responder delivered.
class CapturingSink : public ResponseSink {
 public:
  explicit CapturingSink(std::shared_ptr<std::vector<HttpResponse>> out) : out_(std::move(out)) {}
  void deliver(HttpResponse response) override { out_->push_back(std::move(response)); }

 private:
  std::shared_ptr<std::vector<HttpResponse>> out_;
};

struct ProviderApiTest : CallFixture {
  ProviderApiTest() {
    AgentConfig& demo = config.agents[0];
    demo.protocol = AgentProtocol::twilio;
    demo.account_id = "AC0123";
    demo.api_key = "tw-s3cret";
    AgentConfig& forwarding = config.agents[1];
    forwarding.protocol = AgentProtocol::telnyx;
    forwarding.api_key = "KEY_tx";
    AgentConfig& plain = config.agents[2];
    plain.protocol = AgentProtocol::plivo;
    plain.account_id = "MA1234";
    plain.api_key = "pl-s3cret";
    config.agents[3].protocol = AgentProtocol::twilio;
    for (AgentConfig& a : config.agents) a.sample_rate = dialect_sample_rate(a.protocol);  // as the loader sets it
    add_provider_routes(api, [this](const std::string& id, std::function<void(Call*)> fn) {
      auto found = router->find(id);
      fn(found.get());
    });
  }

  // One request through the routes; exactly one answer is expected.
  HttpResponse request(std::string method, std::string path, std::string body = {},
                       std::vector<HttpHeader> headers = {}) {
    auto out = std::make_shared<std::vector<HttpResponse>>();
    HttpRequest r;
    r.method = std::move(method);
    r.target = path;
    r.path = std::move(path);
    r.headers = std::move(headers);
    r.body = std::move(body);
    api.dispatch(r, Responder(std::make_unique<CapturingSink>(out)));
    settle();
    EXPECT_EQ(out->size(), 1u);
    return out->empty() ? HttpResponse{} : out->front();
  }

  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& h : r.headers)
      if (h.name == name) return h.value;
    return {};
  }

  // application/x-www-form-urlencoded, every byte but unreserved ones escaped.
  static std::string form(std::vector<std::pair<std::string, std::string>> fields) {
    auto escape = [](std::string_view s) {
      std::string out;
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
      }
      return out;
    };
    std::string body;
    for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + escape(k) + "=" + escape(v);
    return body;
  }

  static HttpHeader basic(std::string_view user_password) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < user_password.size(); i += 3) {
      const uint32_t n = (uint8_t(user_password[i]) << 16) | (uint8_t(user_password[i + 1]) << 8) | uint8_t(user_password[i + 2]);
      for (int s : {18, 12, 6, 0}) out += kAlphabet[(n >> s) & 63];
    }
    if (i < user_password.size()) {
      uint32_t n = uint8_t(user_password[i]) << 16;
      if (i + 1 < user_password.size()) n |= uint8_t(user_password[i + 1]) << 8;
      out += kAlphabet[(n >> 18) & 63];
      out += kAlphabet[(n >> 12) & 63];
      out += i + 1 < user_password.size() ? kAlphabet[(n >> 6) & 63] : '=';
      out += '=';
    }
    return {"Authorization", "Basic " + out};
  }

  static const HttpHeader& form_type() {
    static const HttpHeader h{"Content-Type", "application/x-www-form-urlencoded"};
    return h;
  }

  static std::string twilio_path(const Caller& c, std::string_view account = "AC0123") {
    return "/2010-04-01/Accounts/" + std::string(account) + "/Calls/" + c.id + ".json";
  }

  // Twilio's call update, with the demo agent's credentials.
  HttpResponse twilio(const Caller& c, std::vector<std::pair<std::string, std::string>> fields) {
    return request("POST", twilio_path(c), form(std::move(fields)), {basic("AC0123:tw-s3cret"), form_type()});
  }
  HttpResponse twiml(const Caller& c, std::string document) { return twilio(c, {{"Twiml", std::move(document)}}); }

  HttpRouter api;
};

}  // namespace warmline::server
