// Filters for synthetic (query, document) pairs and the funnel that composes them.
//
// Each filter is a class with a name that decides one candidate at a time, says why it rejects,
// and counts what it passed and rejected. A Funnel runs candidates, in order, through its filters
// and stops at the first rejection, so `by_filter` counts each rejected candidate once, at the
// filter that dropped it:
//   {"input": 1200, "passed": 1013, "by_filter": {"length": 40, "exact_duplicate": 90, ...},
//    "order": ["structure", "length", ...]}
// Stateful filters (duplicates) remember only candidates that passed the whole funnel, so the
// result depends only on the candidates and their order, never on which filter rejected what.
//
// The filters follow InPars (Bonifacio et al. 2022: drop queries under 3 tokens and queries copied
// from the document; v1 keeps generations by mean token log-probability) and Promptagator (Dai et
// al. 2022: round-trip consistency, keep a query only if a retriever returns its source passage in
// the top-k).
//
// Not thread-safe: a Funnel and its filters are used by one thread.
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ksparse/core/analyzer.h"
#include "ksparse/synth/retriever.h"
#include "ksparse/synth/similarity.h"

namespace ksparse::synth {

// What a query is meant to look like, by script. Set from the prompt template's style.
enum class QueryLanguage {
  kKorean,   // mostly Hangul (keyword and natural-question styles)
  kEnglish,  // mostly Latin letters
  kMixed,    // Korean with English terms ("BERT 모델 학습 방법"): both scripts present
};
QueryLanguage parse_query_language(const std::string& text);  // "ko" | "en" | "mixed"
const char* query_language_name(QueryLanguage language);

// One generated query and what it was generated from.
struct Candidate {
  std::string query;
  std::string doc_id;
  std::string doc_text;  // the passage as the model saw it (title and text)
  std::string style;     // template style, for reports
  QueryLanguage language = QueryLanguage::kKorean;
  std::optional<double> mean_logprob;  // nullopt when the backend cannot tell
  bool parsed = true;                  // the model output parsed into the requested structure
  std::string parse_error;             // why not (when !parsed)
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string name() const = 0;
  // nullopt when `c` passes, else the reason it is rejected (one short sentence with the numbers).
  virtual std::optional<std::string> check(const Candidate& c) = 0;
  // Called for each candidate that passed every filter of the funnel, in order.
  virtual void keep(const Candidate& /*c*/) {}

  // check() plus counting.
  std::optional<std::string> apply(const Candidate& c);
  std::size_t passed() const { return passed_; }
  std::size_t rejected() const { return rejected_; }

 private:
  std::size_t passed_ = 0;
  std::size_t rejected_ = 0;
};

// --- the filters ---

struct LengthFilterOptions {
  std::size_t min_chars = 4;    // code points of the trimmed query
  std::size_t max_chars = 200;  // code points; 0 = no upper bound
  std::size_t min_tokens = 3;   // analyzer terms (InPars drops queries under 3 tokens)
  std::size_t max_tokens = 64;  // analyzer terms; 0 = no upper bound
  AnalyzerOptions analyzer;     // the BM25 analyzer by default (bigrams + head unigrams)
  void validate() const;        // ConfigError when min > max
};

class LengthFilter : public Filter {
 public:
  explicit LengthFilter(LengthFilterOptions options = {});
  std::string name() const override { return "length"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  LengthFilterOptions options_;
  Analyzer analyzer_;
};

// Rejects a query whose normalize_for_dedup() form equals a kept query's (anywhere in the run).
class ExactDuplicateFilter : public Filter {
 public:
  std::string name() const override { return "exact_duplicate"; }
  std::optional<std::string> check(const Candidate& c) override;
  void keep(const Candidate& c) override;

 private:
  std::unordered_map<std::string, std::string> kept_;  // normalised query -> its doc id
};

struct NearDuplicateFilterOptions {
  std::size_t ngram = 3;  // character n-grams of the normalised query (code points)
  // Reject at Jaccard >= per_doc_threshold against a kept query of the same document (one word
  // of four swapped, "훈민정음 창제 반포 연도" / "... 시기", is 0.69), or >= global_threshold
  // against any kept query (found by MinHash LSH, confirmed by exact Jaccard; one particle added
  // to a long query is about 0.8). > 1 disables either.
  double per_doc_threshold = 0.6;
  double global_threshold = 0.8;
  std::size_t num_hashes = 64;                 // MinHash signature length
  std::size_t bands = 16;                      // LSH bands (num_hashes must be a multiple)
  std::uint64_t seed = 0x6b73706172736531ULL;  // MinHash functions (fixed: results reproduce)
  void validate() const;
};

class NearDuplicateFilter : public Filter {
 public:
  explicit NearDuplicateFilter(NearDuplicateFilterOptions options = {});
  std::string name() const override { return "near_duplicate"; }
  std::optional<std::string> check(const Candidate& c) override;
  void keep(const Candidate& c) override;

 private:
  NearDuplicateFilterOptions options_;
  MinHasher hasher_;
  MinHashIndex lsh_;
  std::vector<std::vector<std::uint64_t>> kept_shingles_;
  std::vector<std::string> kept_queries_;
  std::unordered_map<std::string, std::vector<std::size_t>> kept_by_doc_;
};

struct CopyFilterOptions {
  std::size_t ngram = 4;         // character n-grams (code points) of the normalised texts
  double max_containment = 0.9;  // reject when this share of the query's n-grams is in the doc
  std::size_t min_ngrams = 3;    // the containment test needs at least this many query n-grams
  void validate() const;
};

// Verbatim copy: the normalised query is a substring of the normalised document, or nearly all of
// its character n-grams occur in it.
class CopyFilter : public Filter {
 public:
  explicit CopyFilter(CopyFilterOptions options = {});
  std::string name() const override { return "copy"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  CopyFilterOptions options_;
};

// Script shares are over letters only (Hangul syllables/jamo, Latin, Han, Kana, other letters);
// digits, spaces and punctuation do not count.
struct ScriptFilterOptions {
  double korean_min_hangul = 0.5;  // kKorean: Hangul share >= this
  double english_min_latin = 0.9;  // kEnglish: Latin share >= this
  double mixed_min_hangul = 0.2;   // kMixed: Hangul share >= this ...
  double mixed_min_latin = 0.05;   // ... and Latin share >= this
  void validate() const;           // shares in [0, 1]
};

class ScriptFilter : public Filter {
 public:
  explicit ScriptFilter(ScriptFilterOptions options = {});
  std::string name() const override { return "script"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  ScriptFilterOptions options_;
};

// Degenerate repetition, which neither the log-probability (a model repeating itself is confident)
// nor the other filters catch: "이유 이유 이유", "서울 날씨 서울 날씨 서울 날씨".
// Counted on the normalize_for_dedup() form.
struct RepetitionFilterOptions {
  // Reject when one word (a space-separated token with a letter or digit) occurs more often;
  // 0 = off.
  std::size_t max_word_repeats = 2;
  // Reject when distinct character bigrams (spaces removed) / all bigrams falls below this, for
  // queries with at least min_bigrams bigrams ("이유이유이유이유" has 2 distinct of 7).
  double min_distinct_bigrams = 0.5;
  std::size_t min_bigrams = 8;
  void validate() const;  // min_distinct_bigrams in [0, 1]
};

class RepetitionFilter : public Filter {
 public:
  explicit RepetitionFilter(RepetitionFilterOptions options = {});
  std::string name() const override { return "repetition"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  RepetitionFilterOptions options_;
};

// The model output did not parse into the requested structure (Candidate::parsed).
class StructureFilter : public Filter {
 public:
  std::string name() const override { return "structure"; }
  std::optional<std::string> check(const Candidate& c) override;
};

struct LogprobFilterOptions {
  // Reject when the mean token log-probability is below this (InPars v1 ranks by it); -infinity
  // disables.
  double min_mean_logprob = -3.0;
  bool reject_missing = false;  // true: reject candidates without a log-probability
  void validate() const;
};

class LogprobFilter : public Filter {
 public:
  explicit LogprobFilter(LogprobFilterOptions options = {});
  std::string name() const override { return "logprob"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  LogprobFilterOptions options_;
};

struct RoundTripFilterOptions {
  std::size_t k = 10;  // the source document must be among the retriever's top-k (>= 1)
  void validate() const;
};

// Promptagator's round-trip consistency through any Retriever (not owned; must outlive the filter).
class RoundTripFilter : public Filter {
 public:
  RoundTripFilter(Retriever& retriever, RoundTripFilterOptions options = {});
  std::string name() const override { return "round_trip"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  Retriever* retriever_;
  RoundTripFilterOptions options_;
};

// --- the funnel ---

struct FilterOptions {
  LengthFilterOptions length;
  NearDuplicateFilterOptions near_duplicate;
  CopyFilterOptions copy;
  ScriptFilterOptions script;
  RepetitionFilterOptions repetition;
  LogprobFilterOptions logprob;
  RoundTripFilterOptions round_trip;
  bool round_trip_enabled = true;  // needs a retriever
  void validate() const;
  nlohmann::json to_json() const;
};

struct Rejection {
  std::size_t index = 0;  // candidate index
  std::string filter;
  std::string reason;
};

struct FunnelResult {
  std::size_t input = 0;
  std::vector<std::size_t> kept;      // indices of candidates that passed everything, in order
  std::vector<Rejection> rejections;  // one per rejected candidate, in order
  std::vector<std::string> order;     // filter names in the order they ran
  std::map<std::string, std::size_t> rejected_by;  // every filter, 0 included
  // filter name -> "pass" or the reason, for candidate `index` (filters after a rejection absent).
  std::map<std::string, std::string> verdicts(std::size_t index) const;
  // {"input", "passed", "by_filter", "order"}
  nlohmann::json to_json() const;
};

class Funnel {
 public:
  void add(std::unique_ptr<Filter> filter);
  // Runs `candidates` in order; may be called repeatedly (stateful filters remember earlier runs).
  FunnelResult run(const std::vector<Candidate>& candidates);
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
};

// Appends the text filters every funnel shares, cheapest first: structure, length, script,
// repetition, copy, logprob, exact_duplicate, near_duplicate (configured from `options`, which is not validated here).
void add_text_filters(Funnel& funnel, const FilterOptions& options);

// The standard funnel: the text filters (add_text_filters), then round_trip (when enabled;
// `retriever` must then be non-null and outlive it).
Funnel make_default_funnel(const FilterOptions& options, Retriever* retriever);

}  // namespace ksparse::synth
