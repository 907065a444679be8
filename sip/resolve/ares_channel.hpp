// c-ares driven by a shard's Asio event loop: no thread per lookup, no blocking call.
//
// c-ares tells us through its socket-state callback (ARES_OPT_SOCK_STATE_CB) which of its sockets
// want reading or writing; each one is watched with a posix::stream_descriptor async_wait, and a
// readiness event runs ares_process_fd for that socket only. One steady_timer, re-armed from
// ares_timeout() after every change, runs c-ares' retransmissions and timeouts. c-ares owns its
// sockets: the descriptors are released (never closed) when c-ares says a socket is going away.
//
// Threading: one channel per Resolver, i.e. per shard; every call and every callback runs on that
// shard's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

struct ares_channeldata;

namespace boost::asio {
class io_context;
}

namespace warmline::sip {

struct AresOptions {
  // "ip", "ip:port", "[ipv6]:port", "ipv6"; empty = the system's /etc/resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  // first try per server; c-ares doubles it per round
  int tries = 2;                            // rounds over the server list
};

// Checks one entry of AresOptions::servers; false for anything that is not an IP with an optional
// port ("localhost", "1.2.3.4:0", "::1:53" without brackets, ...).
bool valid_dns_server(std::string_view server);

class AresChannel {
 public:
  // status is an ARES_* code; the buffer holds the answer (also for NXDOMAIN and SERVFAIL) or is
  // null. Called from ares_process_fd or the timer, never inline from query(), never after the
  // channel is destroyed.
  using Callback = std::function<void(int status, const unsigned char* answer, int length)>;

  explicit AresChannel(boost::asio::io_context& io);
  // Destroys the c-ares channel: the pending queries end without their callbacks being called.
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Creates the c-ares channel (reads /etc/resolv.conf when no servers are given: a startup-time
  // file read, never on a call's path). Errors are returned, never thrown.
  std::error_code init(const AresOptions& options);

  // Sends one question (class IN). The name is used as given: no search list, no hosts file.
  void query(const std::string& name, uint16_t type, Callback callback);

  uint64_t queries_sent() const { return queries_sent_; }
  size_t watched_sockets() const { return watches_.size(); }

 private:
  struct Watch;
  struct Request;
  static void on_socket_state(void* self, int fd, int readable, int writable);
  static void on_answer(void* request, int status, int timeouts, unsigned char* answer, int length);
  void socket_state(int fd, bool readable, bool writable);
  void arm(Watch& watch, bool write);
  void on_ready(int fd, uint64_t generation, bool write);
  void reschedule_timer();

  boost::asio::io_context& io_;
  ares_channeldata* channel_ = nullptr;
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  uint64_t next_generation_ = 1;
  struct TimerHolder;
  std::unique_ptr<TimerHolder> timer_;
  uint64_t queries_sent_ = 0;
  // True while c-ares runs inside ares_process_fd: an answer outside of it came from ares_query().
  bool in_process_ = false;
  // Completions queued before the channel died check this instead of touching it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warmline::sip
