#pragma once
// The two checks every fuzz target uses: require() prints what failed and aborts (a finding, like a
// sanitizer report, that libFuzzer saves as a crash input and the corpus replay turns into a failed
// test), and is_json() for the JSON warmline writes.

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace warmline::fuzz {

inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

inline bool is_json(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(text.data(), text.size()).get(root) == simdjson::SUCCESS;
}

}  // namespace warmline::fuzz
