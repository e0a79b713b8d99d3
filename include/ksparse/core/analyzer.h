// Lexical analysis for the BM25 baseline and for IDF/statistics over Korean–English text.
//
// The "bigram" analyzer belongs to the family of Lucene's CJK analyzer: text is NFKC-normalised,
// split on whitespace and punctuation into runs of one script; Hangul (and Han/Kana) runs emit
// overlapping character bigrams (a single-character run emits its unigram) plus the whole run as a
// word; Latin and digit runs emit the lowercased word.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

struct AnalyzerOptions {
  std::string kind = "bigram";  // "bigram" | "word" (whitespace/punctuation words only)
  bool lowercase = true;        // lowercase Latin letters
  bool emit_words = true;       // bigram kind: also emit each Hangul run as a whole word
  void validate() const;        // throws ConfigError on unknown kind
};

// Stateless and thread-safe after construction.
class Analyzer {
 public:
  explicit Analyzer(AnalyzerOptions options = {});
  // Terms of `text` in order of occurrence (duplicates kept). `text` must be valid UTF-8; invalid
  // bytes are replaced by U+FFFD rather than throwing.
  std::vector<std::string> analyze(std::string_view text) const;
  const AnalyzerOptions& options() const { return options_; }

 private:
  AnalyzerOptions options_;
};

}  // namespace ksparse
