#include "ksparse/index/bm25.h"

#include <cmath>
#include <string>

#include "ksparse/core/error.h"

namespace ksparse {

void Bm25Params::validate() const {
  if (!(k1 >= 0.0f) || !std::isfinite(k1)) {
    throw ConfigError("bm25.k1 = " + std::to_string(k1) +
                      " is invalid; use a value >= 0 (e.g. 0.9)");
  }
  if (!(b >= 0.0f && b <= 1.0f)) {
    throw ConfigError("bm25.b = " + std::to_string(b) +
                      " is invalid; use a value in [0, 1] (e.g. 0.4)");
  }
}

float bm25_idf(std::uint64_t num_docs, std::uint64_t doc_freq) {
  // Lucene's variant of the Robertson/Sparck Jones IDF: the "1 +" keeps it positive even for
  // terms in more than half of the documents, which the classic formula would make negative.
  const double n = static_cast<double>(num_docs);
  const double df = static_cast<double>(doc_freq);
  return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
}

float bm25_term_score(float idf, float tf, float doc_len, float avg_doc_len, const Bm25Params& p) {
  // Robertson & Zaragoza (2009), eq. 3.15 with the (k1 + 1) numerator factor; the factor does
  // not change rankings but keeps scores comparable to the textbook formula.
  const double norm = p.k1 * (1.0 - p.b + p.b * static_cast<double>(doc_len) / avg_doc_len);
  return static_cast<float>(idf * tf * (p.k1 + 1.0) / (tf + norm));
}

}  // namespace ksparse
