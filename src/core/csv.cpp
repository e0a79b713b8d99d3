#include "ksparse/core/csv.h"

#include <fmt/format.h>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace fs = std::filesystem;

namespace {
constexpr std::size_t kBufferSize = 1 << 16;
}  // namespace

CsvReader::CsvReader(fs::path path, CsvOptions options)
    : path_(std::move(path)), options_(options), in_(path_, std::ios::binary), buf_(kBufferSize) {
  if (!in_) throw IoError(fmt::format("{}: cannot open for reading", path_.string()));
  if (options_.delimiter == '"' || options_.delimiter == '\n' || options_.delimiter == '\r') {
    throw ConfigError(fmt::format("CSV delimiter must not be a quote or line break"));
  }
  // Skip a UTF-8 byte order mark (EF BB BF), which spreadsheet exports often add.
  if (peek() == 0xEF) {
    std::size_t pos = buf_pos_;
    if (buf_len_ - pos >= 3 && static_cast<unsigned char>(buf_[pos + 1]) == 0xBB &&
        static_cast<unsigned char>(buf_[pos + 2]) == 0xBF) {
      buf_pos_ += 3;
    }
  }
  if (options_.has_header) {
    if (!read_record(header_)) fail(1, "empty file; expected a header line naming the columns");
    expected_fields_ = header_.size();
  }
}

int CsvReader::peek() {
  if (buf_pos_ == buf_len_) {
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_len_ = static_cast<std::size_t>(in_.gcount());
    buf_pos_ = 0;
    if (buf_len_ == 0) {
      if (in_.bad()) throw IoError(fmt::format("{}: read error", where(path_, line_)));
      return -1;
    }
  }
  return static_cast<unsigned char>(buf_[buf_pos_]);
}

int CsvReader::get() {
  int c = peek();
  if (c >= 0) ++buf_pos_;
  return c;
}

void CsvReader::fail(std::size_t line, const std::string& what) const {
  throw DataError(fmt::format("{}: {}", where(path_, line), what));
}

// One pass of a small state machine over bytes. Multi-byte UTF-8 never contains the ASCII bytes we
// look for, so scanning bytes is safe.
bool CsvReader::read_record(std::vector<std::string>& fields) {
  fields.clear();
  // Skip completely empty lines between records.
  while (true) {
    int c = peek();
    if (c == '\n') {
      get();
      ++line_;
    } else if (c == '\r') {
      get();
      if (peek() == '\n') get();
      ++line_;
    } else {
      break;
    }
  }
  if (peek() < 0) return false;
  record_line_ = line_;
  std::string field;
  while (true) {
    int c = get();
    if (c == '"' && field.empty()) {
      // Quoted field.
      const std::size_t open_line = line_;
      while (true) {
        int q = get();
        if (q < 0) {
          fail(open_line, fmt::format("unterminated quoted field (field {} of the record starting "
                                      "at line {}); add the closing '\"'",
                                      fields.size() + 1, record_line_));
        }
        if (q == '"') {
          if (peek() == '"') {
            get();
            field.push_back('"');
            continue;
          }
          break;
        }
        if (q == '\n') ++line_;
        field.push_back(static_cast<char>(q));
      }
      c = get();
      if (c != options_.delimiter && c != '\n' && c != '\r' && c >= 0) {
        fail(line_, fmt::format("unexpected character '{}' after a closing quote in field {}; "
                                "quotes inside a quoted field are written \"\"",
                                static_cast<char>(c), fields.size() + 1));
      }
    } else {
      while (c >= 0 && c != options_.delimiter && c != '\n' && c != '\r') {
        if (c == '"') {
          fail(line_, fmt::format("stray '\"' inside unquoted field {}; quote the whole field and "
                                  "double the quote (\"\")",
                                  fields.size() + 1));
        }
        field.push_back(static_cast<char>(c));
        c = get();
      }
    }
    std::size_t bad = 0;
    if (!utf8_valid(field, &bad)) {
      fail(record_line_, fmt::format("invalid UTF-8 in field {} at byte offset {} of the field; "
                                     "re-encode the file as UTF-8",
                                     fields.size() + 1, bad));
    }
    fields.push_back(std::move(field));
    field.clear();
    if (c == options_.delimiter) continue;
    // End of record: line break or end of file.
    if (c == '\r' && peek() == '\n') get();
    if (c == '\n' || c == '\r') ++line_;
    break;
  }
  if (expected_fields_ == 0) {
    expected_fields_ = fields.size();
  } else if (fields.size() != expected_fields_) {
    fail(record_line_,
         fmt::format("expected {} fields{}, got {}", expected_fields_,
                     options_.has_header ? " (as in the header)" : "", fields.size()));
  }
  return true;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  if (!read_record(fields)) return false;
  ++records_;
  return true;
}

std::optional<std::size_t> CsvReader::find_column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

std::size_t CsvReader::column(std::string_view name) const {
  if (auto i = find_column(name)) return *i;
  std::string names;
  for (const auto& h : header_) {
    if (!names.empty()) names += ", ";
    names += h;
  }
  throw ConfigError(
      fmt::format("{}: no column named \"{}\"; the header has: {}", path_.string(), name, names));
}

}  // namespace ksparse
