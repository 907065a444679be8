// The TLS files of the configuration are loaded once by the loader, so that check-config names the file
// and the key of a certificate that cannot be used instead of the gateway failing at start.
#include <boost/asio/ssl/context.hpp>
#include <fmt/format.h>

#include "server/config_internal.hpp"

namespace warmline::server::config_detail {

namespace ssl = boost::asio::ssl;

std::string check_tls_pair(const std::string& cert_file, const std::string& key_file) {
  ssl::context ctx(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) return fmt::format("tls_cert: cannot use '{}' as a PEM certificate chain: {}", cert_file, ec.message());
  ctx.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return fmt::format("tls_key: cannot use '{}' as the PEM private key of tls_cert: {}", key_file, ec.message());
  return "";
}

std::string check_tls_ca(const std::string& ca_file) {
  ssl::context ctx(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx.load_verify_file(ca_file, ec);
  if (ec) return fmt::format("cannot use '{}' as PEM CA certificates: {}", ca_file, ec.message());
  return "";
}

}  // namespace warmline::server::config_detail
