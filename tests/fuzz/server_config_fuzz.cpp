// libFuzzer target: the TOML config loader (server/config_*.cpp via load_config_text, toml++ under it).
// Every input is the text of a config file in tests/data/config/ (relative paths, e.g. hold.wav, resolve
// there), loaded with a fixed environment for `${NAME}` secrets. The
// loader must either give a config and no errors, or errors (each with a message) and no config, never
// crash or throw. Inputs naming /dev, /proc or /sys are skipped: the loader opens the files a config
// names (hold music), and a device would only make the fuzzer wait.
// Build and run: tests/fuzz/README.md; corpus/server_config/ holds tests/data/config's TOML files.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/config.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {

using namespace warmline::server;
using warmline::fuzz::require;

// The environment tests/data/config/secrets.toml expects (WL_TEST_MISSING stays unset).
std::optional<std::string> env(const std::string& name) {
  if (name == "WL_TEST_TRUNK_HOST") return "trunk.example.com";
  if (name == "WL_TEST_CALLER_ID") return "+27115550100";
  if (name == "WL_TEST_PATH") return "agent";
  if (name == "WL_TEST_TOKEN") return "t0ken";
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view device : {"/dev", "/proc", "/sys"}) {
    if (text.find(device) != std::string_view::npos) return 0;
  }
  const LoadResult result = load_config_text(text, WARMLINE_TEST_DATA "/config/fuzz.toml", env);
  require(result.ok() == result.errors.empty(), "a config with errors, or neither config nor errors");
  for (const ConfigError& error : result.errors) {
    require(!error.message.empty(), "a config error without a message");
    require(!format_config_error(error).empty(), "a config error formats to nothing");
  }
  for (const ConfigError& warning : result.warnings) require(!warning.message.empty(), "a warning without a message");
  return 0;
}
