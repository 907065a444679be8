#include "sip/transaction/keys.hpp"

#include "sip/builders.hpp"

namespace warmline::sip::transaction {

namespace {

void append_sent_by(std::string& key, const Via& via) {
  for (char c : via.host) key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  key += ':';
  key += std::to_string(via.port ? via.port : 5060);
}

}  // namespace

std::string client_key(const Message& message) {
  if (message.vias.empty() || message.vias.front().branch().empty()) return {};
  std::string key(message.vias.front().branch());
  key += '\n';
  key += message.is_request ? message.method : message.cseq.method;
  return key;
}

std::string server_key_as(const Message& request, std::string_view method) {
  if (request.vias.empty()) return {};
  const Via& via = request.vias.front();
  std::string_view branch = via.branch();
  std::string key;
  if (branch.starts_with(kBranchCookie)) {
    key.append(branch);
  } else {
    key = "2543\n" + request.call_id + '\n' + std::string(request.from.tag()) + '\n' +
          std::to_string(request.cseq.number) + '\n' + std::string(branch);
  }
  key += '\n';
  append_sent_by(key, via);
  key += '\n';
  key += method == "ACK" ? std::string_view("INVITE") : method;
  return key;
}

std::string server_key(const Message& request) { return server_key_as(request, request.method); }

}  // namespace warmline::sip::transaction
