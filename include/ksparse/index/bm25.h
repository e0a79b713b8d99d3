// Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
// 2009), with the Lucene/Anserini IDF that is always positive.
#pragma once

#include <cstdint>

namespace ksparse {

struct Bm25Params {
  float k1 = 0.9f;  // term-frequency saturation, >= 0 (Anserini default 0.9)
  float b = 0.4f;   // length normalisation in [0, 1] (Anserini default 0.4)
  // Throws ConfigError naming the field when out of range.
  void validate() const;
};

// idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)); N = number of documents, df <= N.
float bm25_idf(std::uint64_t num_docs, std::uint64_t doc_freq);

// Contribution of one term to one document:
//   idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / avg_doc_len)).
// doc_len and avg_doc_len in analyzed tokens; avg_doc_len > 0.
float bm25_term_score(float idf, float tf, float doc_len, float avg_doc_len, const Bm25Params& p);

}  // namespace ksparse
