// Lexical analysis for the BM25 baseline and for IDF/statistics over Korean–English text.
//
// The "bigram" analyzer belongs to the family of Lucene's CJK analyzer: text is NFKC-normalised,
// lowercased, and split on whitespace and punctuation (text.h classes kSpace, kPunctuation) and
// at script changes into runs:
//  - Hangul, Han and Kana runs (each script its own run) emit overlapping character bigrams; a
//    one-character run emits its unigram. With emit_head_unigrams (default) a longer run also
//    emits its first character; with emit_words a run of three or more characters also emits the
//    whole run (for one or two characters the unigram/bigram already is the whole run, and
//    emitting it twice would double its term frequency).
//  - Latin and digit characters together form one word ("GPT4" -> "gpt4", "H100" -> "h100");
//    letters of other scripts (Greek, Cyrillic, ...) form words of their own.
//  - Combining marks and invisible format characters (soft hyphen, ZWJ) extend the run before them.
//
// Korean particles and endings: there is no morphological analysis. A Hangul word with a particle
// is one run: "모델을" -> "모" (head unigram), bigrams "모델", "델을" (+ word "모델을" only with
// emit_words). The stem is matched through its bigrams ("모델" in a query matches "모델을",
// "모델이", "모델의"); the bigram spanning stem and particle ("델을") is a rare term that only
// matches the same inflected form. Korean content words come first in an eojeol and particles last,
// so the head unigram lets a one-syllable noun match across particles ("책을" -> "책", "책을"
// matches a query "책"). "2023년" splits by script into "2023" and "년".
//
// Defaults are what measured best for BM25 (Lucene IDF) on KorQuAD 1.0 dev as retrieval (5,774
// questions over 961 passages); nDCG@10 at k1=1.2,b=0.75 / k1=0.9,b=0.4:
//   bigrams only                               0.946 / 0.948
//   bigrams + head unigrams (default)          0.950 / 0.951
//   bigrams + head unigrams + whole-run words  0.941 / 0.942
//   bigrams + whole-run words                  0.936 / 0.937
// Whole-run words hurt there: inflected forms ("전투에서") are rare, high-IDF terms whose exact
// matches outweigh the bigram evidence. emit_words stays available for other corpora.
//
// The "word" analyzer: NFKC, lowercase, split on whitespace and punctuation only; each piece is
// one term ("BERT모델을" -> "bert모델을"); 0.841 / 0.842 on the same benchmark.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

struct AnalyzerOptions {
  std::string kind = "bigram";     // "bigram" | "word" (whitespace/punctuation words only)
  bool lowercase = true;           // Unicode lowercase (root locale) after NFKC
  bool emit_head_unigrams = true;  // bigram kind: also emit the first character of each
                                   // Hangul/Han/Kana run of >= 2 characters
  bool emit_words = false;  // bigram kind: also emit each Hangul/Han/Kana run of >= 3 characters
  void validate() const;    // throws ConfigError on unknown kind
};

// Stateless and thread-safe after construction; one instance may serve many threads.
//
// Cost: one NFKC pass (skipped for ASCII), one lowercase pass and one scan per call; terms are
// string_views into one per-call buffer until they are handed out, so no per-character heap
// allocation happens (Hangul bigrams, 6 bytes, also fit std::string's small-string buffer).
class Analyzer {
 public:
  // Throws ConfigError when `options` is invalid.
  explicit Analyzer(AnalyzerOptions options = {});

  // Terms of `text` in order of occurrence (duplicates kept; in a CJK run the head unigram comes
  // first and the whole-run word last). `text` should be valid UTF-8; ill-formed bytes are replaced
  // by U+FFFD, which separates terms, rather than throwing.
  std::vector<std::string> analyze(std::string_view text) const;

  // As analyze(), appending to `out` (reuse one vector across calls to avoid reallocation).
  void analyze(std::string_view text, std::vector<std::string>& out) const;

  // Calls `emit` once per term in the same order; each view is valid only during that call.
  void for_each_term(std::string_view text,
                     const std::function<void(std::string_view)>& emit) const;

  const AnalyzerOptions& options() const { return options_; }

 private:
  template <typename Emit>
  void run(std::string_view text, Emit&& emit) const;

  AnalyzerOptions options_;
  bool bigram_ = true;  // options_.kind == "bigram", decided once
};

}  // namespace ksparse
