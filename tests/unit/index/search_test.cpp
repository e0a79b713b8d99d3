#include "ksparse/index/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ksparse/core/error.h"
#include "ksparse/index/index_builder.h"

namespace ksparse {
namespace {

// prefix + n. (Avoids `"literal" + std::to_string(n)`, which trips GCC 12's -Wrestrict.)
std::string numbered(std::string prefix, std::size_t n) {
  prefix += std::to_string(n);
  return prefix;
}

// Samples ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s.
class Zipf {
 public:
  Zipf(std::size_t n, double s) {
    std::vector<double> w(n);
    for (std::size_t r = 0; r < n; ++r) w[r] = 1.0 / std::pow(double(r + 1), s);
    dist_ = std::discrete_distribution<std::size_t>(w.begin(), w.end());
  }
  std::size_t operator()(std::mt19937_64& rng) { return dist_(rng); }

 private:
  std::discrete_distribution<std::size_t> dist_;
};

struct Collection {
  InvertedIndex index;
  std::vector<SparseVector> queries;
};

// A random collection with Zipf-distributed terms. Impact weights are small integers so that
// many documents tie and the doc-id tie-break is exercised.
Collection random_collection(IndexType type, std::size_t num_docs, std::size_t vocab,
                             std::size_t num_queries, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Zipf zipf(vocab, 1.1);
  IndexBuilder b(type);
  for (std::size_t t = 0; t < vocab; ++t) b.dictionary().add(numbered("t", t));
  std::uniform_int_distribution<int> len_dist(1, 40), impact_dist(1, 6);
  for (std::size_t d = 0; d < num_docs; ++d) {
    const int len = len_dist(rng);
    std::vector<std::pair<TermId, float>> pairs;
    for (int i = 0; i < len; ++i) {
      const auto t = static_cast<TermId>(zipf(rng));
      pairs.emplace_back(t, type == IndexType::kBm25 ? 1.0f : float(impact_dist(rng)) * 0.25f);
    }
    b.add(numbered("doc", d), SparseVector::from_pairs(std::move(pairs)),
          static_cast<std::uint32_t>(len));
  }
  Collection c{b.build(), {}};
  std::uniform_int_distribution<int> qlen_dist(1, 8);
  std::uniform_real_distribution<float> qweight(0.1f, 2.0f);
  for (std::size_t q = 0; q < num_queries; ++q) {
    std::vector<std::pair<TermId, float>> pairs;
    const int qlen = qlen_dist(rng);
    for (int i = 0; i < qlen; ++i) {
      const std::string term = numbered("t", zipf(rng));
      auto id = c.index.find_term(term);
      if (!id) continue;  // sampled term that no document got
      pairs.emplace_back(*id, type == IndexType::kBm25 ? 1.0f : qweight(rng));
    }
    c.queries.push_back(SparseVector::from_pairs(std::move(pairs)));
  }
  return c;
}

struct PropertyCase {
  IndexType type;
  std::size_t num_docs;
  std::size_t vocab;
  std::uint64_t seed;
};

class PrunedEqualsExhaustive : public ::testing::TestWithParam<PropertyCase> {};

TEST_P(PrunedEqualsExhaustive, SameTopKForAllK) {
  const PropertyCase& pc = GetParam();
  Collection c = random_collection(pc.type, pc.num_docs, pc.vocab, 60, pc.seed);
  Searcher exhaustive(c.index), pruned(c.index);
  std::size_t compared = 0;
  for (std::size_t k : {1, 10, 100}) {
    for (std::size_t q = 0; q < c.queries.size(); ++q) {
      const auto ref = exhaustive.search(c.queries[q], {k, SearchAlgorithm::kExhaustive});
      // taat_below_postings = 0: always MaxScore, even for the small collections.
      const auto got = pruned.search(c.queries[q], {k, SearchAlgorithm::kMaxScore, 0});
      const auto got_default = pruned.search(c.queries[q], {k, SearchAlgorithm::kMaxScore});
      ASSERT_EQ(got_default, got) << "k=" << k << " query " << q;
      ASSERT_EQ(got.size(), ref.size()) << "k=" << k << " query " << q;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        ASSERT_EQ(got[i].doc, ref[i].doc) << "k=" << k << " query " << q << " rank " << i;
        ASSERT_FLOAT_EQ(got[i].score, ref[i].score) << "k=" << k << " query " << q;
        if (i > 0) {
          ASSERT_TRUE(ref[i - 1].score > ref[i].score ||
                      (ref[i - 1].score == ref[i].score && ref[i - 1].doc < ref[i].doc));
        }
      }
      compared += ref.size();
    }
  }
  EXPECT_GT(compared, 0u);
}

INSTANTIATE_TEST_SUITE_P(RandomCollections, PrunedEqualsExhaustive,
                         ::testing::Values(PropertyCase{IndexType::kBm25, 30, 15, 1},
                                           PropertyCase{IndexType::kBm25, 1000, 300, 2},
                                           PropertyCase{IndexType::kBm25, 20000, 5000, 3},
                                           PropertyCase{IndexType::kImpact, 30, 15, 4},
                                           PropertyCase{IndexType::kImpact, 1000, 300, 5},
                                           PropertyCase{IndexType::kImpact, 20000, 5000, 6}));

TEST(Search, PruningSkipsWorkOnLargeCollections) {
  Collection c = random_collection(IndexType::kBm25, 20000, 5000, 60, 7);
  Searcher exhaustive(c.index), pruned(c.index);
  for (const auto& q : c.queries) {
    exhaustive.search(q, {10, SearchAlgorithm::kExhaustive});
    pruned.search(q, {10, SearchAlgorithm::kMaxScore, 0});
  }
  EXPECT_LT(pruned.counters().postings_scored * 2, exhaustive.counters().postings_scored);
}

TEST(Search, HandComputedImpactScoresAndTieBreak) {
  IndexBuilder b(IndexType::kImpact);
  const TermId x = b.dictionary().add("x");
  const TermId y = b.dictionary().add("y");
  b.add("a", SparseVector::from_pairs({{x, 1.0f}}), 0);             // 2
  b.add("b", SparseVector::from_pairs({{x, 0.5f}, {y, 1.0f}}), 0);  // 1 + 3 = 4
  b.add("c", SparseVector::from_pairs({{y, 2.0f / 3.0f}}), 0);      // 2
  b.add("d", SparseVector::from_pairs({{y, 0.25f}}), 0);            // 0.75
  const InvertedIndex idx = b.build();
  const TermId ix = *idx.find_term("x"), iy = *idx.find_term("y");
  const SparseVector q = SparseVector::from_pairs({{ix, 2.0f}, {iy, 3.0f}});
  for (auto algo : {SearchAlgorithm::kExhaustive, SearchAlgorithm::kMaxScore}) {
    Searcher s(idx);
    const auto hits = s.search(q, {3, algo, 0});
    ASSERT_EQ(hits.size(), 3u) << search_algorithm_name(algo);
    EXPECT_EQ(hits[0], (Hit{1, 4.0f}));
    EXPECT_EQ(hits[1], (Hit{0, 2.0f}));  // ties with doc 2: lower doc id first
    EXPECT_EQ(hits[2].doc, 2u);
    EXPECT_FLOAT_EQ(hits[2].score, 2.0f);
    EXPECT_EQ(s.search(q, {10, algo, 0}).size(), 4u);  // only matching documents are returned
    EXPECT_TRUE(s.search(SparseVector{}, {10, algo, 0}).empty());
  }
}

TEST(Search, RejectsBadQueriesAndOptions) {
  Collection c = random_collection(IndexType::kImpact, 30, 15, 1, 8);
  Searcher s(c.index);
  const auto bad_term =
      SparseVector::from_pairs({{static_cast<TermId>(c.index.num_terms()), 1.0f}});
  EXPECT_THROW(s.search(bad_term, {}), DataError);
  EXPECT_THROW(s.search(SparseVector::from_pairs({{0, -1.0f}}), {}), DataError);
  EXPECT_THROW(s.search(SparseVector{}, {0, SearchAlgorithm::kMaxScore}), ConfigError);
}

TEST(BatchSearch, MatchesSequentialForAnyThreadCount) {
  Collection c = random_collection(IndexType::kBm25, 5000, 1000, 200, 9);
  Searcher s(c.index);
  std::vector<std::vector<Hit>> expected;
  for (const auto& q : c.queries)
    expected.push_back(s.search(q, {10, SearchAlgorithm::kExhaustive}));
  for (unsigned threads : {1u, 3u, 0u}) {
    std::size_t last_progress = 0;
    const auto got = batch_search(c.index, c.queries, {10, SearchAlgorithm::kMaxScore, 0}, threads,
                                  [&](std::size_t done) { last_progress = done; });
    EXPECT_EQ(got, expected) << threads << " threads";
    EXPECT_EQ(last_progress, c.queries.size());
  }
}

TEST(BatchSearch, RethrowsWorkerErrors) {
  Collection c = random_collection(IndexType::kBm25, 500, 100, 50, 10);
  c.queries[17] = SparseVector::from_pairs({{static_cast<TermId>(c.index.num_terms() + 5), 1.0f}});
  EXPECT_THROW(batch_search(c.index, c.queries, {}, 4), DataError);
}

}  // namespace
}  // namespace ksparse
