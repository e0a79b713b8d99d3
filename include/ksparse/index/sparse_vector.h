// SparseVector: the value type for bag-of-terms weights (BM25 queries, learned sparse
// representations) that crosses module boundaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ksparse {

using TermId = std::uint32_t;
using DocId = std::uint32_t;

// Term id -> weight, stored as entries sorted by term id with unique ids. Weights are finite
// floats; zero weights are kept only if explicitly set (from_pairs drops them).
// A plain value type: copyable, not synchronised.
class SparseVector {
 public:
  struct Entry {
    TermId term = 0;
    float weight = 0.0f;
    bool operator==(const Entry&) const = default;
  };

  SparseVector() = default;
  // Builds from unsorted (term, weight) pairs: duplicate terms are summed, zero results dropped.
  // Throws DataError on a non-finite weight.
  static SparseVector from_pairs(std::vector<std::pair<TermId, float>> pairs);
  // Bag of words: each occurrence of a term adds 1 to its weight.
  static SparseVector from_counts(const std::vector<TermId>& terms);

  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Weight of `term`, 0 when absent. O(log n).
  float weight(TermId term) const;
  // Sum of products of weights over shared terms (both operands sorted: O(n + m)).
  double dot(const SparseVector& other) const;

  bool operator==(const SparseVector&) const = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace ksparse
