// Exports of a synonym dictionary for search engines, and a validator for the Solr synonym format.
//
// Solr / OpenSearch synonym files (the `synonyms` / `synonyms_path` of a synonym_graph filter):
//   # comment            a line whose first character is '#'
//   a, b, c              equivalence group (expanded to each other when expand=true)
//   a, b => c            explicit mapping: a and b are replaced by c
// Terms are separated by unescaped ','; the sides by an unescaped "=>". A backslash escapes the
// next character (write "\," "\=>" "\\" for literal ones). Each term is trimmed; internal spaces
// make a multi-word term. Rules enforced by validate_solr_synonyms (Lucene's SolrSynonymParser
// rejects these, or silently does something else than intended):
//   error:   invalid UTF-8; more than one "=>" on a line; an empty left or right side ("=> b",
//            "a =>"); an empty term ("a,,b", "a, "), including whitespace-only lines;
//   warning: a trailing lone backslash (kept literally); a group with a single term (no effect);
//            the same term twice in one group.
//
// Nori user dictionary (`user_dictionary` of the nori_tokenizer): one term per line, '#' comments;
// a line with spaces declares a compound and its parts, so only single Hangul words are written.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/synonyms/dictionary.h"

namespace ksparse::synonyms {

struct SolrExportOptions {
  enum class Style { kEquivalence, kExplicit };
  Style style = Style::kEquivalence;  // kEquivalence: "en, ko1, ko2"; kExplicit: "ko1, ko2 => en"
  double min_score = 0.0;             // entries scoring lower are left out
  bool header = true;                 // leading '#' comment lines (what, how many)
};

// Escapes one term for a Solr synonym file ('\', ',', '=' and a leading '#' get a backslash;
// line breaks become spaces).
std::string solr_escape(std::string_view term);

// The Solr synonym file text for `dict` (one line per English group, sorted by English term).
std::string to_solr_synonyms(const Dictionary& dict, const SolrExportOptions& options = {});

// Writes to_solr_synonyms() to `path` (creating parent directories). Returns the number of rule
// lines. Throws IoError on failure.
std::size_t write_solr_synonyms(const std::filesystem::path& path, const Dictionary& dict,
                                const SolrExportOptions& options = {});

struct SynonymIssue {
  std::size_t line = 0;  // 1-based
  bool error = true;     // false: warning
  std::string message;
};

struct SynonymValidation {
  std::vector<SynonymIssue> issues;
  std::size_t rules = 0;              // non-comment, non-blank lines
  std::size_t equivalence_rules = 0;  // "a, b, c"
  std::size_t explicit_rules = 0;     // "a => b"
  std::size_t terms = 0;              // terms over all rules
  std::size_t multiword_terms = 0;    // terms containing a space
  std::size_t errors() const;
  bool ok() const { return errors() == 0; }
};

// Validates Solr synonym text (see the file comment for the rules). Never throws on bad input.
SynonymValidation validate_solr_synonyms(std::string_view text);
// Reads and validates a file; throws IoError when it cannot be read.
SynonymValidation validate_solr_synonyms_file(const std::filesystem::path& path);

struct NoriExportOptions {
  // A Korean term is written when its entry comes from the transliteration source or when
  // transliteration_score(ko, en) >= this (loanwords found by other sources).
  double min_transliteration_score = 0.75;
  double min_score = 0.0;  // entries scoring lower are left out
};

// Korean loanwords of `dict` for a nori user dictionary: single Hangul words, sorted, unique.
std::vector<std::string> nori_user_terms(const Dictionary& dict,
                                         const NoriExportOptions& options = {});
// Writes them one per line after a '#' header. Returns the number of terms.
std::size_t write_nori_user_dictionary(const std::filesystem::path& path, const Dictionary& dict,
                                       const NoriExportOptions& options = {});

}  // namespace ksparse::synonyms
