// The config loader's reading of one TOML table (config_schema.cpp, config_schema_agents.cpp): typed
// values with the line of the node each problem comes from, and the keys no reader asked for.
// Internal to the loader.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "server/config_internal.hpp"

namespace warmline::server::config_schema {

using config_detail::Problems;
using Checker = std::string (*)(std::string_view);

struct Context {
  Problems& problems;
  const EnvLookup& env;
  std::filesystem::path base_dir;  // relative file paths in the config are relative to the file
};

inline std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

inline int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// One TOML table being read: hands out typed values and remembers which keys were asked for.
class Section {
 public:
  Section(const toml::table& table, std::string path, Context& ctx)
      : table_(table), path_(std::move(path)), ctx_(ctx) {
    ctx_.problems.remember(path_, line_of(table_));
  }

  std::string path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }
  Problems& problems() { return ctx_.problems; }
  Context& context() { return ctx_; }

  const toml::node* node(std::string_view key) {
    asked_.push_back(key);
    const toml::node* n = table_.get(key);
    if (n != nullptr) ctx_.problems.remember(path(key), line_of(*n));
    return n;
  }

  void error(std::string_view key, const toml::node& n, std::string message) {
    ctx_.problems.add(line_of(n), path(key), std::move(message));
  }

  // Reads a string (with ${ENV} expanded). False if absent or invalid (already reported).
  bool string(std::string_view key, std::string& out, Checker check = nullptr) {
    const toml::node* n = node(key);
    return n != nullptr && read_string(*n, path(key), out, check);
  }

  bool read_string(const toml::node& n, const std::string& where, std::string& out, Checker check) {
    if (!n.is_string()) {
      ctx_.problems.add(line_of(n), where, fmt::format("expected a string, got {}", type_name(n)));
      return false;
    }
    std::string value;
    std::string problem = config_detail::expand_env(n.as_string()->get(), ctx_.env, value);
    if (problem.empty() && check != nullptr) problem = check(value);
    if (!problem.empty()) {
      ctx_.problems.add(line_of(n), where, std::move(problem));
      return false;
    }
    out = std::move(value);
    return true;
  }

  bool required_string(std::string_view key, std::string& out, Checker check = nullptr) {
    if (table_.get(key) == nullptr) {
      node(key);
      ctx_.problems.add(line_of(table_), path(key), "missing (required)");
      return false;
    }
    return string(key, out, check);
  }

  void boolean(std::string_view key, bool& out) {
    const toml::node* n = node(key);
    if (n == nullptr) return;
    if (!n->is_boolean()) return error(key, *n, fmt::format("expected true or false, got {}", type_name(*n)));
    out = n->as_boolean()->get();
  }

  template <typename T>
  bool integer(std::string_view key, T& out, int64_t min, int64_t max) {
    const toml::node* n = node(key);
    if (n == nullptr) return false;
    if (!n->is_integer()) {
      error(key, *n, fmt::format("expected an integer, got {}", type_name(*n)));
      return false;
    }
    const int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      error(key, *n, fmt::format("must be from {} to {}, got {}", min, max, v));
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }

  // An array of strings; each element is checked on its own line (`key[i]`).
  bool string_list(std::string_view key, std::vector<std::string>& out, Checker check = nullptr) {
    const toml::array* a = array(key);
    if (a == nullptr) return false;
    out.clear();
    for (size_t i = 0; i < a->size(); ++i) {
      std::string value;
      if (read_string(*a->get(i), fmt::format("{}[{}]", path(key), i), value, check)) out.push_back(std::move(value));
    }
    return true;
  }

  template <typename E>
  void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> options) {
    std::string value;
    if (!string(key, value)) return;
    std::string names;
    for (const auto& [name, e] : options) {
      if (value == name) {
        out = e;
        return;
      }
      names += names.empty() ? std::string(name) : ", " + std::string(name);
    }
    error(key, *table_.get(key), fmt::format("'{}' is not one of: {}", value, names));
  }

  // [[key]]: calls read(section, element) for each table of the array.
  template <typename T, typename F>
  void tables(std::string_view key, std::vector<T>& out, F read) {
    const toml::array* a = array(key);
    if (a == nullptr) return;
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string where = fmt::format("{}[{}]", path(key), i);
      const toml::table* t = a->get(i)->as_table();
      if (t == nullptr) {
        ctx_.problems.add(line_of(*a->get(i)), where, fmt::format("expected a table, got {}", type_name(*a->get(i))));
        continue;
      }
      Section child(*t, where, ctx_);
      read(child, out.emplace_back());
      child.finish();
    }
  }

  // [key]: a sub-table, or nullptr (absent or reported as the wrong type).
  const toml::table* subtable(std::string_view key) {
    const toml::node* n = node(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) error(key, *n, fmt::format("expected a table ([{}]), got {}", path(key), type_name(*n)));
    return n->as_table();
  }

  // Reports every key nobody asked for, with a suggestion when one is close.
  void finish() {
    for (auto&& [key, value] : table_) {
      if (std::find(asked_.begin(), asked_.end(), key.str()) != asked_.end()) continue;
      std::string message = "unknown key";
      if (auto near = config_detail::closest_key(key.str(), asked_); !near.empty())
        message += fmt::format(" (did you mean '{}'?)", near);
      ctx_.problems.add(static_cast<int>(key.source().begin.line), path(key.str()), std::move(message));
    }
  }

 private:
  const toml::array* array(std::string_view key) {
    const toml::node* n = node(key);
    if (n == nullptr) return nullptr;
    if (!n->is_array()) {
      error(key, *n, fmt::format("expected an array, got {}", type_name(*n)));
      return nullptr;
    }
    return n->as_array();
  }

  const toml::table& table_;
  std::string path_;
  Context& ctx_;
  std::vector<std::string_view> asked_;
};

// DESIGN.md "Configuration": a value the build cannot honour yet is refused, never accepted and then
// silently ignored (an operator who sets `protocol = "twilio"` must not get calls that speak something
// else). `missing` says what is not implemented, `instead` what to write; the issue that builds the
// feature deletes its check. docs/configuration.md lists these values.
inline std::string unavailable(std::string_view missing, std::string_view instead) {
  return fmt::format("not available in this build: {} is not implemented yet; {}", missing, instead);
}

// The tables of agents, PBXs and webhooks (config_schema_agents.cpp).
void read_pbx(Section& s, PbxConfig& out);
void read_agent(Section& s, AgentConfig& out);
void read_webhooks(Section& s, WebhooksConfig& out);

}  // namespace warmline::server::config_schema
