// [server] http_token: the guard on /v1/* (api_token_guard, installed by make_api_router), the provider
// REST key it becomes for agents without their own, and the warning for an open API beyond loopback.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "server/api.hpp"
#include "server/check_config_command.hpp"
#include "server/config.hpp"

namespace warmline::server {
namespace {

struct Recorder : ResponseSink {
  explicit Recorder(std::vector<HttpResponse>& out) : out_(out) {}
  void deliver(HttpResponse response) override { out_.push_back(std::move(response)); }
  std::vector<HttpResponse>& out_;
};

class ApiTokenTest : public ::testing::Test {
 protected:
  ApiTokenTest() {
    router_.guard(api_token_guard("s3cret"));
    for (const char* path : {"/healthz", "/metrics", "/v1/calls", "/v1/calls/{id}/hangup",
                             "/2010-04-01/Accounts/{a}/Calls/{sid}.json"}) {
      router_.add("GET", path, [](const HttpRequest&, Responder r) { r(HttpResponse::json(200, "{}")); });
    }
  }
  HttpResponse get(std::string path, std::string authorization = "") {
    std::vector<HttpResponse> out;
    HttpRequest req;
    req.method = "GET";
    req.path = std::move(path);
    if (!authorization.empty()) req.headers.push_back({"Authorization", std::move(authorization)});
    router_.dispatch(req, Responder(std::make_unique<Recorder>(out)));
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? HttpResponse{} : out.front();
  }
  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& h : r.headers)
      if (h.name == name) return h.value;
    return "";
  }
  HttpRouter router_;
};

TEST_F(ApiTokenTest, V1NeedsTheBearerToken) {
  const HttpResponse none = get("/v1/calls");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("\"unauthorized\""), std::string::npos) << none.body;
  EXPECT_EQ(header(none, "WWW-Authenticate"), "Bearer realm=\"warmline\"");
  EXPECT_EQ(get("/v1/calls", "Bearer wrong").status, 401);
  EXPECT_EQ(get("/v1/calls", "Basic czNjcmV0").status, 401);
  EXPECT_EQ(get("/v1/calls", "Bearer s3cret").status, 200);
  EXPECT_EQ(get("/v1/calls/c0-x/hangup", "Bearer s3cret").status, 200);
}

TEST_F(ApiTokenTest, UnknownV1PathsAreRefusedBeforeTheyAreLookedUp) {
  // Without the token nobody learns which /v1 resources exist (401, not 404).
  EXPECT_EQ(get("/v1/nothing-here").status, 401);
  EXPECT_EQ(get("/v1/nothing-here", "Bearer s3cret").status, 404);
}

TEST_F(ApiTokenTest, HealthMetricsAndProviderPathsStayOpen) {
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/metrics").status, 200);
  // The provider paths check their agent's own credentials (provider_api), not this guard.
  EXPECT_EQ(get("/2010-04-01/Accounts/AC1/Calls/c0-x.json").status, 200);
}

LoadResult load(std::string_view text) { return load_config_text(text, "token.toml"); }

TEST(ApiTokenConfig, ProviderAgentsWithoutAKeyTakeTheToken) {
  const LoadResult r = load(R"([server]
http_token = "s3cret"
[[agent]]
name = "t"
url = "ws://h"
protocol = "twilio"
account_id = "AC1"
[[agent]]
name = "n"
url = "ws://h"
protocol = "telnyx"
[[agent]]
name = "own"
url = "ws://h"
protocol = "plivo"
account_id = "MA1"
api_key = "mine"
[[agent]]
name = "native"
url = "ws://h"
)");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : format_config_error(r.errors[0]));
  EXPECT_EQ(r.config->server.http_token, "s3cret");
  EXPECT_EQ(r.config->agents[0].api_key, "s3cret");
  EXPECT_EQ(r.config->agents[1].api_key, "s3cret");
  EXPECT_EQ(r.config->agents[2].api_key, "mine") << "an agent's own key wins";
  EXPECT_EQ(r.config->agents[3].api_key, "");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ApiTokenConfig, ATwilioAgentWithoutAccountCannotAuthenticateWithTheToken) {
  const LoadResult r = load("[server]\nhttp_token = \"s3cret\"\n[[agent]]\nname = \"t\"\nurl = \"ws://h\"\nprotocol = \"twilio\"\n");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].key_path, "agent[0].protocol");
  EXPECT_NE(r.errors[0].message.find("set account_id"), std::string::npos) << r.errors[0].message;
}

TEST(ApiTokenConfig, AnOpenApiBeyondLoopbackIsWarnedAboutNotRefused) {
  const LoadResult open = load("[server]\nhttp = \"0.0.0.0:8080\"\n");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.warnings.size(), 1u);
  EXPECT_EQ(format_config_error(open.warnings[0]),
            "token.toml:2: server.http: warning: the HTTP API listens on 0.0.0.0 beyond loopback without "
            "http_token: anyone who reaches it can hang up and transfer calls");
  EXPECT_TRUE(load("[server]\nhttp = \"0.0.0.0:8080\"\nhttp_token = \"t\"\n").warnings.empty());
  EXPECT_TRUE(load("[server]\nhttp = \"127.0.0.1:8080\"\n").warnings.empty());
}

TEST(ApiTokenConfig, CheckConfigPrintsTheWarningAndExits0) {
  const std::string path = ::testing::TempDir() + "/open-api.toml";
  {
    std::ofstream f(path);
    f << "[server]\nhttp = \"0.0.0.0:8080\"\n";
  }
  std::ostringstream out, err;
  EXPECT_EQ(check_config_command(path, out, err), 0);
  EXPECT_EQ(out.str(), path + ": ok\n");
  EXPECT_NE(err.str().find(path + ":2: server.http: warning: "), std::string::npos) << err.str();
}

}  // namespace
}  // namespace warmline::server
