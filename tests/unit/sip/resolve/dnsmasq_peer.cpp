#include "dnsmasq_peer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace warmline::sip::test {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool bindable(int type, uint16_t port) {
  const int fd = socket(AF_INET, type, 0);
  if (fd < 0) return false;
  sockaddr_in a = loopback(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A minimal query (RFC 1035 §4.1.1) for "ready.test" A, id 0x5EED.
std::vector<unsigned char> readiness_query() {
  std::vector<unsigned char> q = {0x5E, 0xED, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (std::string_view label : {"ready", "test"}) {
    q.push_back(static_cast<unsigned char>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

}  // namespace

uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    close(fd);
    if (port != 0 && bindable(SOCK_STREAM, port)) return port;  // dnsmasq also listens on TCP
  }
  return 0;
}

DnsmasqPeer::~DnsmasqPeer() {
  stop();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string DnsmasqPeer::find_binary() {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/dnsmasq";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool DnsmasqPeer::start(const std::vector<std::string>& records, std::string& error) {
  const std::string binary = find_binary();
  if (binary.empty()) {
    error = "dnsmasq is not installed: the RFC 3263 resolver tests need it as their DNS server. "
            "Install Debian's dnsmasq-base (`make deps` or scripts/install-deps.sh does).";
    return false;
  }
  // A port free a moment ago may be taken before dnsmasq binds it: a few fresh tries.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!spawn(binary, records, error)) return false;
    if (wait_ready(error)) return true;
    stop();
  }
  return false;
}

bool DnsmasqPeer::spawn(const std::string& binary, const std::vector<std::string>& records, std::string& error) {
  port_ = free_port();
  if (port_ == 0) {
    error = "no free port on 127.0.0.1";
    return false;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/warmline-dnsmasq-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    error = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);  // an earlier try's
  dir_ = dir;
  log_path_ = dir + "/dnsmasq.log";
  std::vector<std::string> args = {
      binary,
      "--no-daemon",            // foreground, no pid file, no change of user id, logs to stderr
      "--conf-file=/dev/null",  // none of the machine's configuration
      "--no-resolv", "--no-hosts", "--no-poll",
      "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + std::to_string(port_),
      "--local=/test/",  // answer for .test only from the records below; NXDOMAIN otherwise
      "--local-ttl=60", "--log-queries", "--log-facility=-",
  };
  args.insert(args.end(), records.begin(), records.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    error = "posix_spawn " + binary + ": " + std::strerror(rc);
    return false;
  }
  return true;
}

bool DnsmasqPeer::wait_ready(std::string& error) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  timeval tv{0, 20 * 1000};  // each receive ends on the answer, or after 20 ms without one
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to = loopback(port_);
  const std::vector<unsigned char> query = readiness_query();
  bool ready = false;
  for (int attempt = 0; attempt < 250 && !ready; ++attempt) {  // at most ~5 s
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "dnsmasq exited before it answered:\n" + log();
      break;
    }
    sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    unsigned char answer[512];
    const ssize_t n = recv(fd, answer, sizeof answer, 0);
    ready = n >= 2 && answer[0] == 0x5E && answer[1] == 0xED;
  }
  close(fd);
  if (!ready && error.empty()) error = "dnsmasq did not answer on port " + std::to_string(port_) + ":\n" + log();
  return ready;
}

void DnsmasqPeer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string DnsmasqPeer::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace warmline::sip::test
