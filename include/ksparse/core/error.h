// The one error hierarchy of ksparse.
//
// Library code throws; only the CLI's main() catches, prints `ksparse <cmd>: message` and exits
// non-zero. Messages say what went wrong, where (file:line of the *input*, or the setting), and what
// to do about it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace ksparse {

// Base of every error ksparse throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A setting is invalid (CLI flag, TOML key, options struct field).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Input data is malformed: bad JSONL/CSV/TSV line, invalid UTF-8, duplicate id, unknown id.
class DataError : public Error {
 public:
  using Error::Error;
};

// A file is missing, unreadable, unwritable, or has the wrong format/version.
class IoError : public Error {
 public:
  using Error::Error;
};

// A model cannot be loaded or used (wrong file, unsupported architecture, out of memory budget).
class ModelError : public Error {
 public:
  using Error::Error;
};

// "path:line" for messages; line 0 means "no line" and yields just the path.
std::string where(const std::filesystem::path& file, std::size_t line = 0);

}  // namespace ksparse
