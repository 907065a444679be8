// The provider dialects' agent settings (protocol, account_id, api_key, [agent.parameters]).
#include <gtest/gtest.h>

#include "server/config.hpp"

namespace warmline::server {
namespace {

LoadResult load(std::string_view text) {
  return load_config_text(text, "dialect.toml", [](const std::string& name) -> std::optional<std::string> {
    if (name == "TWILIO_AUTH_TOKEN") return "s3cret";
    return std::nullopt;
  });
}

std::string errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += format_config_error(e) + "\n";
  return out;
}

TEST(ConfigDialectTest, TwilioAgentReadsAccountKeyAndParametersSortedByName) {
  const LoadResult r = load(R"(
[[agent]]
name = "bot"
url = "ws://127.0.0.1:9000/twilio"
protocol = "twilio"
account_id = "AC0123"
api_key = "${TWILIO_AUTH_TOKEN}"
[agent.parameters]
tenant = "acme"
lang = "en-GB"
)");
  ASSERT_TRUE(r.ok()) << errors(r);
  const AgentConfig& a = r.config->agents.at(0);
  EXPECT_EQ(a.protocol, AgentProtocol::twilio);
  EXPECT_EQ(a.sample_rate, 8000u);  // the dialect's rate, without being set
  EXPECT_EQ(a.account_id, "AC0123");
  EXPECT_EQ(a.api_key, "s3cret");
  const std::vector<std::pair<std::string, std::string>> params = {{"lang", "en-GB"}, {"tenant", "acme"}};
  EXPECT_EQ(a.parameters, params);
}

TEST(ConfigDialectTest, EachDialectHasItsRate) {
  for (const auto& [name, rate] : std::vector<std::pair<std::string, unsigned>>{
           {"twilio", 8000}, {"telnyx", 8000}, {"plivo", 8000}, {"exotel", 8000}, {"vonage", 16000}}) {
    const LoadResult r = load("[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"" + name + "\"\n");
    ASSERT_TRUE(r.ok()) << name << ": " << errors(r);
    EXPECT_EQ(to_string(r.config->agents[0].protocol), name);
    EXPECT_EQ(r.config->agents[0].sample_rate, rate) << name;
    EXPECT_EQ(dialect_sample_rate(r.config->agents[0].protocol), rate) << name;
  }
}

TEST(ConfigDialectTest, TelnyxTakesABearerKeyWithoutAccount) {
  const LoadResult r = load("[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"telnyx\"\napi_key = \"KEY\"\n");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.config->agents[0].api_key, "KEY");
}

TEST(ConfigDialectTest, AnUnknownParameterValueTypeNamesItsKey) {
  const LoadResult r = load("[[agent]]\nname = \"a\"\nurl = \"ws://h\"\nprotocol = \"plivo\"\n[agent.parameters]\nn = 3\n");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << errors(r);
  EXPECT_EQ(r.errors[0].key_path, "agent[0].parameters.n");
  EXPECT_EQ(r.errors[0].line, 6);
}

}  // namespace
}  // namespace warmline::server
