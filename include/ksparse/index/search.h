// Top-k retrieval over an InvertedIndex.
//
// A query is a SparseVector over the index's term ids with positive weights; a document's score is
// the sum over query terms of weight x posting score, summed in ascending term-id order (so every
// algorithm produces bit-identical scores). Only documents with score > 0 are returned, ordered by
// score descending, ties by doc id ascending.
//
// Algorithms:
//   kExhaustive  term-at-a-time accumulators over all postings (the reference)
//   kMaxScore    document-at-a-time MaxScore (Turtle & Flood 1995) with block-max bounds on the
//                non-essential lists (Chakrabarti et al. 2011; Mallia et al. 2019). Safe: returns
//                exactly the exhaustive top-k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "ksparse/index/inverted_index.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

struct Hit {
  DocId doc = 0;
  float score = 0.0f;
  bool operator==(const Hit&) const = default;
};

enum class SearchAlgorithm { kMaxScore, kExhaustive };
// "maxscore" | "exhaustive"
std::string_view search_algorithm_name(SearchAlgorithm algorithm);

struct SearchOptions {
  std::size_t k = 10;  // results per query, >= 1
  SearchAlgorithm algorithm = SearchAlgorithm::kMaxScore;
  // kMaxScore only: a query whose posting lists hold fewer postings than this in total is scored
  // term-at-a-time instead (cheaper there; same results). 0 = always MaxScore.
  std::size_t taat_below_postings = 8192;
  void validate() const;  // throws ConfigError
};

// Counters summed over the queries a Searcher ran (for benchmarks and tests).
struct SearchCounters {
  std::uint64_t queries = 0;
  std::uint64_t postings_scored = 0;  // posting scores read and added
  std::uint64_t candidates = 0;       // documents whose score was (partly) evaluated
};

// Reusable per-thread state (the exhaustive accumulators). Not thread-safe: use one per thread.
// The index must outlive the Searcher.
class Searcher {
 public:
  explicit Searcher(const InvertedIndex& index);
  // Throws DataError for a term id >= index.num_terms() or a non-positive/non-finite weight.
  std::vector<Hit> search(const SparseVector& query, const SearchOptions& options);
  const SearchCounters& counters() const { return counters_; }

 private:
  std::vector<Hit> exhaustive(const SparseVector& query, std::size_t k);
  std::vector<Hit> maxscore(const SparseVector& query, std::size_t k);

  const InvertedIndex* index_;
  std::vector<float> accumulators_;  // num_docs, zero between queries
  std::vector<DocId> touched_;
  SearchCounters counters_;
};

// Searches many queries with `threads` workers (0 = std::thread::hardware_concurrency()).
// results[i] belongs to queries[i]. `progress`, when set, is called from worker threads
// (serialised) with the number of queries finished so far. The first exception thrown by any worker
// is rethrown after all workers stop.
std::vector<std::vector<Hit>> batch_search(
    const InvertedIndex& index, const std::vector<SparseVector>& queries,
    const SearchOptions& options, unsigned threads = 0,
    const std::function<void(std::size_t done)>& progress = {});

}  // namespace ksparse
