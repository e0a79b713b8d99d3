#include "ksparse/synonyms/lexicon.h"

#include <fstream>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/io.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {

namespace {

void strip_bom(std::string& line, std::size_t line_no) {
  if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
}

void check_utf8(const std::filesystem::path& path, std::size_t line_no, const std::string& line) {
  std::size_t bad = 0;
  if (!utf8_valid(line, &bad)) {
    throw DataError(where(path, line_no) + ": invalid UTF-8 at byte " + std::to_string(bad + 1) +
                    " of the line (re-encode the file as UTF-8)");
  }
}

// Next line of a lexicon file that holds an entry (blank and '#' comment lines skipped), with the
// BOM stripped and UTF-8 checked (DataError naming file:line). False at end of file.
bool next_entry_line(LineReader& reader, std::string& line) {
  while (reader.next(line)) {
    strip_bom(line, reader.line_no());
    check_utf8(reader.path(), reader.line_no(), line);
    if (!trim_ascii(line).empty() && line[0] != '#') return true;
  }
  return false;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

// Removes "/.../" and "(...)" annotations and the '^' mark from one Wiktionary translation.
std::string clean_wiktionary_term(std::string_view s) {
  std::string out;
  int paren = 0;
  bool slash = false;
  for (char c : s) {
    if (c == '/' && paren == 0) {
      slash = !slash;
      continue;
    }
    if (slash) continue;
    if (c == '(') {
      ++paren;
      continue;
    }
    if (c == ')' && paren > 0) {
      --paren;
      continue;
    }
    if (paren > 0 || c == '^') continue;
    out += c;
  }
  return std::string(trim_ascii(out));
}

}  // namespace

std::vector<LexiconPair> read_pair_file(const std::filesystem::path& path) {
  LineReader reader(path);
  std::vector<LexiconPair> pairs;
  std::string line;
  while (next_entry_line(reader, line)) {
    const std::size_t n = reader.line_no();
    std::vector<std::string> fields;
    if (line.find('\t') != std::string::npos) {
      fields = split(line, '\t');
      if (fields.size() != 2) {
        throw DataError(where(path, n) + ": expected 2 tab-separated columns (ko<TAB>en), got " +
                        std::to_string(fields.size()));
      }
    } else {
      for (const std::string& f : split(line, ' ')) {
        if (!f.empty()) fields.push_back(f);
      }
      if (fields.size() != 2) {
        throw DataError(where(path, n) +
                        ": expected 2 columns (ko<TAB>en, or ko<SPACE>en for "
                        "single words), got " +
                        std::to_string(fields.size()) +
                        " space-separated fields; separate multi-word terms with a tab");
      }
    }
    LexiconPair p;
    p.ko = normalize_ko(fields[0]);
    p.en = normalize_en(fields[1]);
    p.line = n;
    if (p.ko.empty() || p.en.empty()) {
      throw DataError(where(path, n) + ": empty " +
                      std::string(p.ko.empty() ? "Korean" : "English") + " term");
    }
    if (!has_hangul(p.ko)) {
      throw DataError(where(path, n) + ": first column '" + p.ko + "' has no Hangul" +
                      (has_hangul(p.en) ? " (columns swapped? expected ko<TAB>en)" : ""));
    }
    if (has_hangul(p.en)) {
      throw DataError(where(path, n) + ": second column '" + p.en +
                      "' contains Hangul (expected an English term)");
    }
    pairs.push_back(std::move(p));
  }
  return pairs;
}

std::vector<LexiconPair> read_wiktionary(const std::filesystem::path& path) {
  LineReader reader(path);
  std::vector<LexiconPair> pairs;
  std::string line;
  while (next_entry_line(reader, line)) {
    const std::size_t n = reader.line_no();
    const auto sep = line.find(" :: ");
    if (sep == std::string::npos) {
      throw DataError(where(path, n) + ": expected 'english {pos} :: 한국어, ...' (no ' :: ')");
    }
    std::string head = line.substr(0, sep);
    const auto brace = head.find(" {");
    if (brace != std::string::npos) head.resize(brace);
    const std::string en = normalize_en(head);
    if (en.empty()) continue;
    // Split the right side on commas outside annotations.
    const std::string right = line.substr(sep + 4);
    std::vector<std::string> items;
    std::string cur;
    int paren = 0;
    bool slash = false;
    for (char c : right) {
      if (c == '/' && paren == 0) slash = !slash;
      if (!slash && c == '(') ++paren;
      if (!slash && c == ')' && paren > 0) --paren;
      if (c == ',' && !slash && paren == 0) {
        items.push_back(cur);
        cur.clear();
        continue;
      }
      cur += c;
    }
    items.push_back(cur);
    for (const std::string& item : items) {
      const std::string ko = normalize_ko(clean_wiktionary_term(item));
      if (ko.empty() || !has_hangul(ko)) continue;
      pairs.push_back({ko, en, n});
    }
  }
  return pairs;
}

std::vector<LexiconPair> read_lexicon(const std::filesystem::path& path, LexiconFormat format) {
  if (format == LexiconFormat::kAuto) {
    LineReader reader(path);
    std::string line;
    format = LexiconFormat::kPairs;
    while (reader.next(line)) {
      if (line.empty() || line[0] == '#') continue;
      if (line.find(" :: ") != std::string::npos) format = LexiconFormat::kWiktionary;
      break;
    }
  }
  return format == LexiconFormat::kWiktionary ? read_wiktionary(path) : read_pair_file(path);
}

void add_to_gold(Gold& gold, const std::vector<LexiconPair>& pairs) {
  for (const LexiconPair& p : pairs) gold[p.ko].insert(p.en);
}

void split_by_headword(const std::vector<LexiconPair>& pairs, double fraction, std::uint64_t seed,
                       std::vector<LexiconPair>& first, std::vector<LexiconPair>& second) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw ConfigError("split fraction must be in [0, 1], got " + std::to_string(fraction));
  for (const LexiconPair& p : pairs) {
    // SHA-256 of "seed:headword" -> uniform in [0, 1): a stable, platform-independent choice.
    const std::string h = sha256_hex(std::to_string(seed) + ":" + p.ko);
    const double u = static_cast<double>(std::stoull(h.substr(0, 13), nullptr, 16)) /
                     static_cast<double>(1ULL << 52);
    (u < fraction ? first : second).push_back(p);
  }
}

void write_pair_file(const std::filesystem::path& path, const std::vector<LexiconPair>& pairs) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("cannot write " + path.string());
  for (const LexiconPair& p : pairs) out << p.ko << '\t' << p.en << '\n';
  out.close();
  if (!out) throw IoError("error writing " + path.string());
}

}  // namespace ksparse::synonyms
