// Hard negatives mined with a retriever (BM25 now): the retriever's top-k for the query, minus the
// positive, minus passages that are near-duplicates of the positive (MinHash over character
// n-grams of the passage text: a duplicate of the answer passage is not a negative), minus any
// document judged relevant to the same query text; then `per_query` of those drawn with a seeded
// stream that depends only on (seed, query id), so the output does not depend on file order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "ksparse/core/io.h"
#include "ksparse/synth/retriever.h"
#include "ksparse/synth/similarity.h"
#include "ksparse/synth/triples.h"

namespace ksparse::synth {

struct NegativeMiningOptions {
  std::size_t k = 30;         // retriever depth (>= 1)
  std::size_t per_query = 4;  // negatives kept per triple (>= 1); fewer when fewer remain
  std::size_t skip_top = 0;   // ignore the first `skip_top` eligible hits (likely false
                              // negatives); 0 keeps all
  double near_duplicate_threshold = 0.8;  // MinHash Jaccard with the positive at or above this
                                          // excludes a passage; > 1 disables
  std::size_t ngram = 5;                  // character n-grams of the normalised passage text
  std::size_t num_hashes = 128;           // MinHash signature length
  std::uint64_t seed = 0;                 // drives the draw among eligible hits
  bool keep_existing = false;  // true: triples that already have negative_ids are left as they are
  void validate() const;
  nlohmann::json to_json() const;
};

struct NegativeMiningStats {
  std::size_t triples = 0;
  std::size_t with_negatives = 0;           // triples that got at least one negative
  std::size_t short_of_per_query = 0;       // got fewer than per_query
  std::size_t excluded_positive = 0;        // hits dropped because they are the positive (or
                                            // another positive of the same query text)
  std::size_t excluded_near_duplicate = 0;  // hits dropped as near-duplicates of the positive
  std::size_t missing_positive = 0;         // positives not found in the corpus (no dedup possible)
  nlohmann::json to_json() const;
};

// Fills each triple's negative_ids. `corpus` maps doc id -> document (for the near-duplicate
// test). Triples are processed in order; the retriever is queried in batches.
NegativeMiningStats mine_negatives(std::vector<Triple>& triples,
                                   const std::unordered_map<std::string, Document>& corpus,
                                   Retriever& retriever, const NegativeMiningOptions& options);

// `ksparse synth negatives`: reads corpus and triples, builds BM25 over the corpus, mines, and
// writes `out_dir`/triples.jsonl and manifest.json (kind "synth-negatives"). Returns the stats.
NegativeMiningStats mine_negatives_files(const std::filesystem::path& corpus,
                                         const std::filesystem::path& triples,
                                         const std::filesystem::path& out_dir,
                                         const NegativeMiningOptions& options);

}  // namespace ksparse::synth
