// libFuzzer target: the native protocol's CommandDecoder (ai_bridge/native_decode.cpp), one per process
// as on a connection. The decoded command must keep the limits of ai_bridge/native_protocol.hpp, and the
// frames warmline writes back from it (the mark's echo, the error, a transfer event) must be valid JSON
// (tests/fuzz/fuzz_checks.hpp). Build and run: tests/fuzz/README.md; seeds and findings: corpus/native/.
#include "tests/fuzz/fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace warmline;
  using fuzz::is_json;
  using fuzz::require;
  static ai::CommandDecoder decoder;
  const ai::Command command = decoder.decode(std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz::check_limits(command);
  if (const auto* e = std::get_if<ai::ProtocolError>(&command)) {
    require(is_json(ai::encode_error(e->code, e->message)), "error frame is not JSON");
  } else if (const auto* m = std::get_if<ai::Mark>(&command)) {
    require(is_json(ai::encode_mark(m->name, ai::MarkEvent::kPlayed)), "mark frame is not JSON");
  } else if (const auto* t = std::get_if<ai::TransferRequest>(&command)) {
    const ai::TransferEvent event{.id = t->id, .state = ai::TransferState::kDialing, .target = t->targets.front()};
    require(is_json(ai::encode_transfer_event(event)), "transfer event frame is not JSON");
  }
  return 0;
}
