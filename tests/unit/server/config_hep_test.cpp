// [server] hep, hep_id, hep_password: what check-config accepts and what it refuses, with file, line
// and key.
#include <gtest/gtest.h>

#include "server/config.hpp"

namespace warmline::server {
namespace {

LoadResult load(std::string_view server) {
  const std::string text = "[server]\n" + std::string(server) + "\n[[agent]]\nname = \"a\"\nurl = \"ws://127.0.0.1:9000\"\n";
  return load_config_text(text, "hep.toml", [](const std::string& name) -> std::optional<std::string> {
    if (name == "HEP_PASSWORD") return "s3cret";
    return std::nullopt;
  });
}

std::string errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += format_config_error(e) + "\n";
  return out;
}

TEST(ConfigHepTest, OffByDefault) {
  const LoadResult r = load("");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_TRUE(r.config->server.hep.host.empty());
  EXPECT_EQ(r.config->server.hep_id, 2001u);
  EXPECT_EQ(r.config->server.hep_password, "");
}

TEST(ConfigHepTest, ReadsAnAddressANameAnIdAndAPasswordFromTheEnvironment) {
  LoadResult r = load("hep = \"udp:10.0.0.5:9060\"\nhep_id = 4294967295\nhep_password = \"${HEP_PASSWORD}\"");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.config->server.hep.host, "10.0.0.5");
  EXPECT_EQ(r.config->server.hep.port, 9060);
  EXPECT_EQ(r.config->server.hep_id, 4294967295u);
  EXPECT_EQ(r.config->server.hep_password, "s3cret");
  r = load("hep = \"UDP:homer.example.com:9060\"");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.config->server.hep.host, "homer.example.com");
  r = load("hep = \"udp:[2001:db8::5]:9060\"");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(r.config->server.hep.host, "2001:db8::5");
}

TEST(ConfigHepTest, RefusesWhatItCannotHonourNamingFileLineAndKey) {
  struct Case {
    const char* value;
    const char* says;
  };
  for (const Case& c : {Case{"tcp:10.0.0.5:9060", "HEP over tcp is not supported"},
                        Case{"tls:10.0.0.5:9061", "HEP over tls is not supported"},
                        Case{"10.0.0.5:9060", "is not udp:HOST:PORT"},
                        Case{"udp:10.0.0.5", "needs a port"},
                        Case{"udp:10.0.0.5:0", "is not a number from 1 to 65535"},
                        Case{"udp:bad host:9060", "is not a host name or IP address"}}) {
    const LoadResult r = load("\nhep = \"" + std::string(c.value) + "\"");
    ASSERT_FALSE(r.ok()) << c.value;
    ASSERT_EQ(r.errors.size(), 1u) << errors(r);
    EXPECT_EQ(r.errors[0].file, "hep.toml");
    EXPECT_EQ(r.errors[0].line, 3) << c.value;
    EXPECT_EQ(r.errors[0].key_path, "server.hep");
    EXPECT_NE(r.errors[0].message.find(c.says), std::string::npos) << c.value << ": " << r.errors[0].message;
  }
  const LoadResult r = load("hep_id = -1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].key_path, "server.hep_id");
}

}  // namespace
}  // namespace warmline::server
