// A real DNS server for resolver tests: dnsmasq (Debian's dnsmasq-base) on 127.0.0.1 and a free
// port, serving only the records a test gives it (--local=/test/: unknown names under .test are
// NXDOMAIN, nothing is forwarded anywhere). Started as a child process, ready once it answers a query
// (polled with a bounded number of receives that end on its answer), stopped by its PID.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace warmline::sip::test {

class DnsmasqPeer {
 public:
  DnsmasqPeer() = default;
  ~DnsmasqPeer();  // stops it and removes its log
  DnsmasqPeer(const DnsmasqPeer&) = delete;
  DnsmasqPeer& operator=(const DnsmasqPeer&) = delete;

  // The dnsmasq binary on PATH or in /usr/sbin, /sbin; empty if it is not installed.
  static std::string find_binary();

  // Starts dnsmasq with these record options (--host-record=..., --srv-host=...). False with
  // `error` saying why (not installed, would not start, never answered).
  bool start(const std::vector<std::string>& records, std::string& error);
  // SIGTERM to our child and wait for it. Safe to call twice.
  void stop();

  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }
  std::string log() const;  // what dnsmasq wrote (stderr, with --log-queries)

 private:
  bool spawn(const std::string& binary, const std::vector<std::string>& records, std::string& error);
  bool wait_ready(std::string& error);

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string dir_;
  std::string log_path_;
};

// A UDP and TCP port on 127.0.0.1 that was free a moment ago (0 if none could be had).
uint16_t free_port();

}  // namespace warmline::sip::test
