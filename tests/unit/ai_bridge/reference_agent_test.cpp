// The reference agent (examples/agent.py) driven by AgentConnection and CommandDecoder: proves the
// agent speaks the protocol this layer decodes, and that its --events log and shutdown work. The
// agent is a child process on 127.0.0.1 (port 0), stopped by its PID; every wait is bounded.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ai_bridge/native_protocol.hpp"
#include "ai_bridge/ws_client.hpp"

extern char** environ;

namespace warmline::ai {
namespace {

constexpr auto kBound = std::chrono::seconds(20);

class ReferenceAgent {
 public:
  // Starts the agent with `script` and reads its "agent listening on ws://..." line.
  ReferenceAgent(const std::string& script, const std::vector<std::string>& extra) {
    dir_ = std::filesystem::temp_directory_path() / ("warmline-agent-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "test.agent") << script;
    std::vector<std::string> args = {"/usr/bin/python3", std::string(WARMLINE_SOURCE_DIR) + "/examples/agent.py",
                                     "--listen", "127.0.0.1:0", "--script", (dir_ / "test.agent").string(),
                                     "--events", events_path()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    stdout_fd_ = fds[0];
    const std::string first = read_line();
    const auto at = first.find("ws://");
    if (at != std::string::npos) url_ = first.substr(at);
  }
  ~ReferenceAgent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // One line of the agent's stdout, waiting at most kBound for it.
  std::string read_line() {
    std::string line;
    char c = 0;
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      if (::read(stdout_fd_, &c, 1) != 1 || c == '\n') break;
      line += c;
    }
    return line;
  }
  // Waits for the agent to exit on its own (it was told to) and returns its exit status.
  int wait_exit() {
    int status = -1;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  std::string events_path() const { return (dir_ / "events.jsonl").string(); }
  std::string events() const {
    std::stringstream s;
    s << std::ifstream(events_path()).rdbuf();
    return s.str();
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int stdout_fd_ = -1;
  std::string url_;
};

TEST(ReferenceAgent, RunsItsScriptOverTheNativeProtocol) {
  ReferenceAgent agent(R"(# a test script
on start: say "hello {from}"; tone 1000 100; mark m1
on dtmf 5: send {"type":"oops"}; transfer warm Craig 101 ring_timeout_s=15 id=t7 briefing="a b"
on transfer ended busy: say "{result} {sip_status}"; hangup
)",
                       {"--exit-after-calls", "1"});
  ASSERT_FALSE(agent.url().empty()) << "agent did not start";
  boost::asio::io_context io;
  CommandDecoder decoder;
  std::vector<Command> commands;
  std::size_t audio_bytes = 0;
  std::unique_ptr<AgentConnection> conn;
  bool closed = false;
  conn = std::make_unique<AgentConnection>(
      io, AgentCallbacks{
              .on_open = {},
              .on_text = [&](std::string_view text) {
                commands.push_back(decoder.decode(text));
                if (std::holds_alternative<Mark>(commands.back())) conn->send_text(encode_dtmf('5', 100));
                if (std::holds_alternative<TransferRequest>(commands.back())) {
                  conn->send_text(encode_transfer_event({.id = "t7", .state = TransferState::kEnded,
                                                         .target = "Craig", .result = TransferResult::kBusy,
                                                         .sip_status = 486, .reason = "Busy Here"}));
                }
                if (std::holds_alternative<Hangup>(commands.back())) conn->close();
              },
              .on_binary = [&](std::span<const std::uint8_t> data) { audio_bytes += data.size(); },
              .on_close = [&](const CloseReason&) { closed = true; }});
  conn->connect(agent.url(), {.bearer_token = "tok"});
  conn->send_text(encode_start({.id = "c1", .from = "+27115550100", .to = "100", .headers = {}}, 8000));
  const std::vector<std::int16_t> caller(160, 100);
  conn->send_audio(caller);
  conn->send_audio(caller);
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!closed && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  ASSERT_TRUE(closed);
  EXPECT_EQ(agent.wait_exit(), 0);  // --exit-after-calls 1

  ASSERT_EQ(commands.size(), 6u);
  ASSERT_TRUE(std::holds_alternative<Say>(commands[0]));
  EXPECT_EQ(std::get<Say>(commands[0]).text, "hello +27115550100");
  ASSERT_TRUE(std::holds_alternative<Mark>(commands[1]));
  EXPECT_EQ(std::get<Mark>(commands[1]).name, "m1");
  EXPECT_EQ(audio_bytes, 800u * 2);  // 100 ms at 8 kHz, before the mark
  ASSERT_TRUE(std::holds_alternative<Unknown>(commands[2]));
  ASSERT_TRUE(std::holds_alternative<TransferRequest>(commands[3]));
  const auto& t = std::get<TransferRequest>(commands[3]);
  EXPECT_EQ(t.id, "t7");
  EXPECT_EQ(t.mode, TransferMode::kWarm);
  EXPECT_EQ(t.targets, (std::vector<std::string>{"Craig", "101"}));
  EXPECT_EQ(t.ring_timeout_s, 15);
  EXPECT_EQ(t.briefing, "a b");
  ASSERT_TRUE(std::holds_alternative<Say>(commands[4]));
  EXPECT_EQ(std::get<Say>(commands[4]).text, "busy 486");
  EXPECT_TRUE(std::holds_alternative<Hangup>(commands[5]));

  const std::string events = agent.events();
  EXPECT_NE(events.find(R"("authorization": "Bearer tok")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("state": "ended", "target": "Craig", "result": "busy")"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("kind": "audio", "frames": 1, "samples": 320)"), std::string::npos) << events;
  EXPECT_NE(events.find(R"("kind": "disconnect", "code": 1000)"), std::string::npos) << events;
}

TEST(ReferenceAgent, StopsCleanlyOnSigterm) {
  ReferenceAgent agent("on start: hangup\n", {});
  ASSERT_FALSE(agent.url().empty()) << "agent did not start";
  ASSERT_EQ(::kill(agent.pid(), SIGTERM), 0);
  EXPECT_EQ(agent.read_line(), "agent stopped (SIGTERM)");
  EXPECT_EQ(agent.wait_exit(), 0);
}

TEST(ReferenceAgent, DemoScriptIsValidAndBadScriptsAreRefused) {
  const std::string cmd = "/usr/bin/python3 " + std::string(WARMLINE_SOURCE_DIR) + "/examples/agent.py --check --script " +
                          std::string(WARMLINE_SOURCE_DIR) + "/examples/demo.agent >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  const std::string bad = "/usr/bin/python3 " + std::string(WARMLINE_SOURCE_DIR) +
                          "/examples/agent.py --check --script " + std::string(WARMLINE_TEST_DATA) +
                          "/../../examples/README.md 2>/dev/null";  // not a script: exit 2
  const int status = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
}

}  // namespace
}  // namespace warmline::ai
