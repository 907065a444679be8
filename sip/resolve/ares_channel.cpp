#include "sip/resolve/ares_channel.hpp"

#include <ares.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <spdlog/spdlog.h>

namespace warmline::sip {

namespace asio = boost::asio;

namespace {

constexpr int kClassIn = 1;

// "1.2.3.4", "1.2.3.4:53", "[::1]:53", "::1" -> address and port (53 when absent).
bool parse_server(std::string_view text, asio::ip::address& address, uint16_t& port) {
  std::string_view host = text;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() == 1)) return false;
    if (!rest.empty()) port_text = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return false;
  }
  boost::system::error_code ec;
  address = asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (text.front() == '[' && !address.is_v6()) return false;
  port = 53;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return false;
    unsigned value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return false;
    port = static_cast<uint16_t>(value);
  }
  return true;
}

// c-ares' library state is process-wide by its design (and before 1.x not safe to initialise from
// two threads at once): initialised once, by whichever shard gets here first, never torn down.
int library_status() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status;
}

}  // namespace

bool valid_dns_server(std::string_view server) {
  asio::ip::address address;
  uint16_t port = 0;
  return !server.empty() && parse_server(server, address, port);
}

struct AresChannel::Watch {
  explicit Watch(asio::io_context& io) : descriptor(io) {}
  // Owned by c-ares: release()d, never closed, by us.
  asio::posix::stream_descriptor descriptor;
  uint64_t generation = 0;  // tells a completion for a closed fd from one for a new socket on it
  bool want_read = false;
  bool want_write = false;
  bool reading = false;  // an async_wait is outstanding
  bool writing = false;
};

struct AresChannel::Request {
  AresChannel* owner;
  Callback callback;
};

struct AresChannel::TimerHolder {
  explicit TimerHolder(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

AresChannel::AresChannel(asio::io_context& io) : io_(io), timer_(std::make_unique<TimerHolder>(io)) {}

AresChannel::~AresChannel() {
  alive_.reset();
  // c-ares ends every pending query with ARES_EDESTRUCTION (on_answer frees it and calls nothing)
  // and reports each socket closed, which releases its watch.
  if (channel_ != nullptr) ares_destroy(channel_);
  for (auto& [fd, watch] : watches_) watch->descriptor.release();
}

std::error_code AresChannel::init(const AresOptions& options) {
  if (channel_ != nullptr) return std::make_error_code(std::errc::already_connected);
  if (library_status() != ARES_SUCCESS) return std::make_error_code(std::errc::io_error);
  std::string csv;
  for (const std::string& server : options.servers) {
    asio::ip::address address;
    uint16_t port = 0;
    if (!parse_server(server, address, port)) return std::make_error_code(std::errc::invalid_argument);
    if (!csv.empty()) csv += ',';
    // Always written with a port, IPv6 in brackets: c-ares' own parser then has nothing to guess.
    csv += address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    csv += ":" + std::to_string(port);
  }
  ares_options o{};
  o.sock_state_cb = &AresChannel::on_socket_state;
  o.sock_state_cb_data = this;
  o.timeout = static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, options.timeout.count()));
  o.tries = std::max(1, options.tries);
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (ares_init_options(&channel_, &o, mask) != ARES_SUCCESS) {
    channel_ = nullptr;
    return std::make_error_code(std::errc::io_error);
  }
  if (!csv.empty() && ares_set_servers_ports_csv(channel_, csv.c_str()) != ARES_SUCCESS) {
    ares_destroy(channel_);
    channel_ = nullptr;
    return std::make_error_code(std::errc::invalid_argument);
  }
  return {};
}

void AresChannel::query(const std::string& name, uint16_t type, Callback callback) {
  if (channel_ == nullptr) {  // init() failed or was not called: answer as a DNS failure would
    asio::post(io_, [cb = std::move(callback)] { cb(ARES_ENOTINITIALIZED, nullptr, 0); });
    return;
  }
  ++queries_sent_;
  auto* request = new Request{this, std::move(callback)};
  ares_query(channel_, name.c_str(), kClassIn, type, &AresChannel::on_answer, request);
  reschedule_timer();
}

void AresChannel::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) {
  std::unique_ptr<Request> request(static_cast<Request*>(arg));
  if (status == ARES_EDESTRUCTION) return;  // the channel is being destroyed: touch nothing
  AresChannel& self = *request->owner;
  if (!self.in_process_) {
    // c-ares may answer from inside ares_query() (a malformed name, no memory): the contract is
    // "never inline from query()", so that answer goes through the loop with a copy of the buffer.
    std::vector<unsigned char> copy(answer, answer + (answer != nullptr && length > 0 ? length : 0));
    asio::post(self.io_, [alive = std::weak_ptr<bool>(self.alive_), cb = std::move(request->callback), status,
                          copy = std::move(copy)] {
      if (alive.lock()) cb(status, copy.empty() ? nullptr : copy.data(), static_cast<int>(copy.size()));
    });
    return;
  }
  request->callback(status, answer, length);
}

void AresChannel::on_socket_state(void* self, int fd, int readable, int writable) {
  static_cast<AresChannel*>(self)->socket_state(fd, readable != 0, writable != 0);
}

void AresChannel::socket_state(int fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {  // c-ares is about to close it
    if (it != watches_.end()) {
      it->second->descriptor.release();  // cancels the waits; their completions see the new generation
      watches_.erase(it);
    }
    return;
  }
  if (it == watches_.end()) {
    auto watch = std::make_unique<Watch>(io_);
    boost::system::error_code ec;
    watch->descriptor.assign(fd, ec);
    if (ec) {  // the query on this socket will time out in c-ares; nothing else to do
      spdlog::warn("dns: cannot watch c-ares socket {}: {}", fd, ec.message());
      watch->descriptor.release();
      return;
    }
    watch->generation = next_generation_++;
    it = watches_.emplace(fd, std::move(watch)).first;
  }
  Watch& watch = *it->second;
  watch.want_read = readable;
  watch.want_write = writable;
  if (readable && !watch.reading) arm(watch, false);
  if (writable && !watch.writing) arm(watch, true);
}

void AresChannel::arm(Watch& watch, bool write) {
  (write ? watch.writing : watch.reading) = true;
  const int fd = watch.descriptor.native_handle();
  watch.descriptor.async_wait(
      write ? asio::posix::descriptor_base::wait_write : asio::posix::descriptor_base::wait_read,
      [this, alive = std::weak_ptr<bool>(alive_), fd, generation = watch.generation,
       write](const boost::system::error_code& ec) {
        if (!alive.lock() || ec == asio::error::operation_aborted) return;
        on_ready(fd, generation, write);
      });
}

void AresChannel::on_ready(int fd, uint64_t generation, bool write) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second->generation != generation) return;
  {
    Watch& watch = *it->second;
    (write ? watch.writing : watch.reading) = false;
    if (!(write ? watch.want_write : watch.want_read)) return;
  }
  in_process_ = true;
  ares_process_fd(channel_, write ? ARES_SOCKET_BAD : fd, write ? fd : ARES_SOCKET_BAD);
  in_process_ = false;
  // c-ares may have closed this socket, or closed it and opened another with the same number.
  it = watches_.find(fd);
  if (it != watches_.end() && it->second->generation == generation) {
    Watch& watch = *it->second;
    if (write ? (watch.want_write && !watch.writing) : (watch.want_read && !watch.reading)) arm(watch, write);
  }
  reschedule_timer();
}

void AresChannel::reschedule_timer() {
  timeval storage{};
  const timeval* next = ares_timeout(channel_, nullptr, &storage);
  if (next == nullptr) {  // nothing pending: leave the loop free of our work
    timer_->timer.cancel();
    return;
  }
  timer_->timer.expires_after(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec));
  timer_->timer.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    in_process_ = true;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retransmissions and timeouts
    in_process_ = false;
    reschedule_timer();
  });
}

}  // namespace warmline::sip
