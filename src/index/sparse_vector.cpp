#include "ksparse/index/sparse_vector.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "ksparse/core/error.h"

namespace ksparse {

SparseVector SparseVector::from_pairs(std::vector<std::pair<TermId, float>> pairs) {
  for (const auto& [term, weight] : pairs) {
    if (!std::isfinite(weight)) {
      throw DataError("sparse vector: term " + std::to_string(term) +
                      " has a non-finite weight; weights must be finite numbers");
    }
  }
  // Stable so that duplicates are summed in input order (deterministic results).
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  SparseVector out;
  out.entries_.reserve(pairs.size());
  for (const auto& [term, weight] : pairs) {
    if (!out.entries_.empty() && out.entries_.back().term == term) {
      out.entries_.back().weight += weight;
    } else {
      out.entries_.push_back({term, weight});
    }
  }
  std::erase_if(out.entries_, [](const Entry& e) { return e.weight == 0.0f; });
  return out;
}

SparseVector SparseVector::from_counts(const std::vector<TermId>& terms) {
  std::vector<std::pair<TermId, float>> pairs;
  pairs.reserve(terms.size());
  for (TermId t : terms) pairs.emplace_back(t, 1.0f);
  return from_pairs(std::move(pairs));
}

float SparseVector::weight(TermId term) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), term,
                             [](const Entry& e, TermId t) { return e.term < t; });
  return it != entries_.end() && it->term == term ? it->weight : 0.0f;
}

double SparseVector::dot(const SparseVector& other) const {
  double sum = 0.0;
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() && b != other.entries_.end()) {
    if (a->term < b->term) {
      ++a;
    } else if (b->term < a->term) {
      ++b;
    } else {
      sum += static_cast<double>(a->weight) * b->weight;
      ++a;
      ++b;
    }
  }
  return sum;
}

}  // namespace ksparse
