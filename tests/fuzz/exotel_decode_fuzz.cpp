// libFuzzer target: the Exotel dialect's decoder (ai_bridge/exotel_dialect.cpp). Every input goes to
// decode_text and decode_binary of one codec per process, and tests/fuzz/fuzz_checks.hpp checks what
// comes out. Build and run: tests/fuzz/README.md; the seeds and findings are in corpus/exotel/.
#include "tests/fuzz/fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return warmline::fuzz::feed_dialect(warmline::fuzz::process_codec(warmline::ai::Dialect::kExotel), data, size);
}
