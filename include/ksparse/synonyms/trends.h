// Trending terms: words whose frequency in one period of a dated corpus rises significantly above
// their frequency in all other periods.
//
// For each period P and term t, the 2x2 contingency table
//              in P      not in P
//   t          a         b
//   other      c         d
// (token counts) gives Dunning's log-likelihood ratio G^2 = 2 * sum O * ln(O / E) (Dunning 1993,
// "Accurate methods for the statistics of surprise and coincidence"), with expected counts E from
// the margins. Only rises count: t is kept when a/(a+c) > b/(b+d), a >= min_count, t occurs in
// >= min_docs documents of P, and G^2 >= min_g2 (10.83 is p < 0.001 for one degree of freedom).
// Very common words (particles are stripped; 것, 있다-like words, "the") keep a steady relative
// frequency across periods, so their G^2 stays small without a stopword list.
//
// Terms are synonyms::extract_words (Korean words without particles, English words, lowercased).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ksparse::synonyms {

struct TrendOptions {
  std::string date_field = "date";  // metadata field holding "YYYY-MM-DD..." (or "YYYY-MM", "YYYY")
  std::string window = "year";      // "year" | "month": the period key is YYYY or YYYY-MM
  std::size_t top = 20;             // terms per period (0: all that pass)
  std::size_t min_count = 5;        // min occurrences of the term in the period
  std::size_t min_docs = 2;         // min documents of the period containing the term
  double min_g2 = 10.83;            // significance threshold
  void validate() const;            // throws ConfigError
};

struct TrendTerm {
  std::string term;
  double g2 = 0.0;
  std::size_t count = 0;       // occurrences in the period
  std::size_t docs = 0;        // documents of the period containing it
  std::size_t background = 0;  // occurrences in all other periods
  double ratio = 0.0;          // relative frequency in the period / elsewhere (add-0.5 smoothed)
};

struct TrendPeriod {
  std::string period;  // "2011" or "2011-03"
  std::size_t documents = 0;
  std::size_t tokens = 0;
  std::vector<TrendTerm> terms;  // best first
};

struct TrendReport {
  std::vector<TrendPeriod> periods;  // chronological
  std::size_t documents = 0;
  std::size_t undated = 0;  // documents without a usable date (skipped)
  nlohmann::json to_json() const;
};

// A dated document: period key is derived from `date` by the window.
struct DatedText {
  std::string date;
  std::string text;
};

// Core computation over in-memory documents (documents with an unparsable date are counted in
// `undated`). Deterministic: ties are broken by term.
TrendReport find_trends(const std::vector<DatedText>& docs, const TrendOptions& options);

// Reads a BEIR corpus.jsonl (title + text) taking the date from metadata[date_field].
TrendReport find_trends(const std::filesystem::path& corpus, const TrendOptions& options);

// Dunning's G^2 for the table (a, b; c, d) above. Exposed for tests.
double log_likelihood_g2(double a, double b, double c, double d);

}  // namespace ksparse::synonyms
