// TOML configuration. A config file maps table by table onto options structs:
//
//   [index.bm25]            struct Bm25Options { double k1 = 0.9; double b = 0.4; ... };
//   k1 = 1.2
//
//   Bm25Options bm25_options_from(const ConfigTable& t) {
//     t.expect_keys({"k1", "b"});                 // unknown key -> ConfigError listing k1, b
//     Bm25Options o;
//     o.k1 = t.get("k1", o.k1);                   // absent -> default; wrong type -> ConfigError
//     o.b = t.get("b", o.b);
//     return o;
//   }
//   auto cfg = load_config("pipeline.toml");
//   auto bm25 = bm25_options_from(cfg.table("index").table("bm25"));
//
// Errors are ConfigError naming "file:line:column" and the dotted key (e.g. `index.bm25.k1`).
// ConfigTable is a cheap, immutable handle (shared ownership of the parsed document); copies share
// it. Safe to read from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

class ConfigTable {
 public:
  // An empty table with no source file; every get() returns its default.
  ConfigTable();

  // Value at `key` in this table converted to T, or `default_value` when the key is absent.
  // Supported T: bool, int, std::int64_t, std::uint64_t, float, double, std::string,
  // std::filesystem::path (relative paths resolve against the config file's directory),
  // std::vector<std::string>, std::vector<std::int64_t>, std::vector<double>.
  // Integers are accepted where a float is expected; integer range is checked. Throws ConfigError
  // "file:line:col: `a.b.key` must be <type>, got <type>" on a type mismatch.
  template <typename T>
  T get(std::string_view key, const T& default_value) const;

  // Like get() but the key must be present (ConfigError naming the table otherwise).
  template <typename T>
  T require(std::string_view key) const;

  // Sub-table `key`; an empty table (no keys, same source) when absent. ConfigError when `key`
  // holds something other than a table.
  ConfigTable table(std::string_view key) const;

  bool contains(std::string_view key) const;
  bool empty() const;
  // Keys of this table, sorted.
  std::vector<std::string> keys() const;

  // Throws ConfigError for the first key of this table not in `valid`, naming file:line:column,
  // the dotted key and the list of valid keys (sorted).
  void expect_keys(std::initializer_list<std::string_view> valid) const;

  // "file:line:column" of `key`'s value, or of this table when `key` is empty or absent; the file
  // name alone when positions are unknown.
  std::string where(std::string_view key = {}) const;
  // Dotted name of this table ("" for the root, "index.bm25" for a sub-table).
  const std::string& name() const;
  // The config file (empty for a default-constructed or parsed-from-string table without name).
  const std::filesystem::path& source() const;

  // This table as JSON (tables -> objects, arrays -> arrays, dates/times -> ISO strings).
  nlohmann::json to_json() const;

  struct Impl;

 private:
  explicit ConfigTable(std::shared_ptr<const Impl> impl);
  friend ConfigTable parse_config(std::string_view, const std::filesystem::path&);
  std::shared_ptr<const Impl> impl_;
};

// Parses a TOML file. IoError when it cannot be read; ConfigError "file:line:col: <reason>" on a
// syntax error.
ConfigTable load_config(const std::filesystem::path& path);
// Parses TOML text; `source_name` is used in messages and to resolve relative paths.
ConfigTable parse_config(std::string_view text, const std::filesystem::path& source_name = {});

}  // namespace ksparse
