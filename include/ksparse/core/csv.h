// RFC 4180 CSV, streaming.
//
// Fields are separated by a delimiter (default ','), records by CRLF or LF. A field may be quoted
// with '"'; inside quotes, delimiters and line breaks are literal and '""' is one '"'. A UTF-8 byte
// order mark at the start of the file is skipped. Every record must have as many fields as the
// header (or as the first record without a header). Completely empty lines are skipped. Fields must
// be valid UTF-8.
//
// Errors are DataError naming file:line (the physical line, 1-based, where the problem is; for a
// wrong field count, the line where the record starts).
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

struct CsvOptions {
  char delimiter = ',';
  bool has_header = true;  // first record names the columns
};

// Reads a CSV file record by record. Not thread-safe; one reader per thread.
class CsvReader {
 public:
  // Opens the file (IoError when it cannot be opened) and reads the header when has_header.
  explicit CsvReader(std::filesystem::path path, CsvOptions options = {});

  // Column names (empty when !has_header).
  const std::vector<std::string>& header() const { return header_; }

  // Index of the column named `name` (exact match), or nullopt.
  std::optional<std::size_t> find_column(std::string_view name) const;
  // Index of the column named `name`; ConfigError listing the header's names when absent.
  std::size_t column(std::string_view name) const;

  // Next record into `fields`; false at end of file.
  bool next(std::vector<std::string>& fields);

  // Physical line (1-based) where the last record returned by next() starts.
  std::size_t line_no() const { return record_line_; }
  // Number of data records returned so far (header excluded).
  std::size_t records() const { return records_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  bool read_record(std::vector<std::string>& fields);
  int get();
  int peek();
  [[noreturn]] void fail(std::size_t line, const std::string& what) const;

  std::filesystem::path path_;
  CsvOptions options_;
  std::ifstream in_;
  std::vector<char> buf_;
  std::size_t buf_pos_ = 0;
  std::size_t buf_len_ = 0;
  std::size_t line_ = 1;         // current physical line
  std::size_t record_line_ = 0;  // line where the last record started
  std::size_t records_ = 0;
  std::size_t expected_fields_ = 0;  // 0 until known
  std::vector<std::string> header_;
};

}  // namespace ksparse
