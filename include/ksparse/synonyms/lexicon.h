// Reading bilingual word lists: curated seed files and gold lists.
//
// Formats:
//  - pair files ("seed"/MUSE): one pair per line, `ko<TAB>en`, or `ko<SPACE>en` when the line has
//    no tab (MUSE's own format). With a tab, exactly two tab-separated fields (multi-word terms
//    allowed); without one, exactly two space-separated tokens. Blank lines and lines starting
//    with '#' are skipped; a UTF-8 BOM is ignored; CRLF accepted. The Korean side must contain
//    Hangul and the English side must not (a swapped file is reported as such).
//  - Wiktionary (open-dsl-dict en-ko): `english {pos} (gloss) :: 한국어 /annot/, 한국어 (漢字),
//  ...`
//    with '#' comment lines. Annotations in /.../ and (...) and the '^' capitalisation mark are
//    removed; translations without Hangul are skipped.
//
// Errors are DataError naming file:line and what to fix. Readers hold no state between calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ksparse::synonyms {

struct LexiconPair {
  std::string ko;        // normalize_ko
  std::string en;        // normalize_en
  std::size_t line = 0;  // 1-based line in the file
};

// Reads a pair file (seed TSV or MUSE). Throws DataError on a wrong column count, invalid UTF-8,
// an empty term or swapped columns, naming file:line; IoError when the file cannot be opened.
std::vector<LexiconPair> read_pair_file(const std::filesystem::path& path);

// Reads a Wiktionary en-ko file. Throws DataError naming file:line on a line without " :: " that
// is not a comment, or on invalid UTF-8.
std::vector<LexiconPair> read_wiktionary(const std::filesystem::path& path);

enum class LexiconFormat { kAuto, kPairs, kWiktionary };

// Reads either format; kAuto picks Wiktionary when the first non-comment line contains " :: ".
std::vector<LexiconPair> read_lexicon(const std::filesystem::path& path,
                                      LexiconFormat format = LexiconFormat::kAuto);

// Gold translations: Korean headword -> set of English translations.
using Gold = std::map<std::string, std::set<std::string>>;

// Adds the pairs to `gold` (union).
void add_to_gold(Gold& gold, const std::vector<LexiconPair>& pairs);

// Splits pairs by Korean headword into two parts: each distinct headword goes to `first` with
// probability `fraction` (deterministic for a given `seed`: a hash of seed and headword decides),
// so that no headword is in both parts. Pair order is kept.
void split_by_headword(const std::vector<LexiconPair>& pairs, double fraction, std::uint64_t seed,
                       std::vector<LexiconPair>& first, std::vector<LexiconPair>& second);

// Writes pairs as `ko<TAB>en` lines (creating parent directories). Throws IoError on failure.
void write_pair_file(const std::filesystem::path& path, const std::vector<LexiconPair>& pairs);

}  // namespace ksparse::synonyms
