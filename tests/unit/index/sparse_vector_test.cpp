#include "ksparse/index/sparse_vector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

TEST(SparseVector, FromPairsSortsSumsDuplicatesAndDropsZeros) {
  auto v =
      SparseVector::from_pairs({{7, 1.5f}, {2, 0.5f}, {7, 2.0f}, {3, 0.0f}, {4, 1.0f}, {4, -1.0f}});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v.entries()[0], (SparseVector::Entry{2, 0.5f}));
  EXPECT_EQ(v.entries()[1], (SparseVector::Entry{7, 3.5f}));
  EXPECT_EQ(v.weight(7), 3.5f);
  EXPECT_EQ(v.weight(4), 0.0f);
  EXPECT_EQ(v.weight(100), 0.0f);
}

TEST(SparseVector, FromCountsCountsOccurrences) {
  auto v = SparseVector::from_counts({5, 1, 5, 5, 9});
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v.weight(1), 1.0f);
  EXPECT_EQ(v.weight(5), 3.0f);
  EXPECT_EQ(v.weight(9), 1.0f);
}

TEST(SparseVector, DotOverSharedTerms) {
  auto a = SparseVector::from_pairs({{1, 2.0f}, {3, 1.0f}, {8, 4.0f}});
  auto b = SparseVector::from_pairs({{3, 3.0f}, {8, 0.5f}, {9, 7.0f}});
  EXPECT_DOUBLE_EQ(a.dot(b), 3.0 + 2.0);
  EXPECT_DOUBLE_EQ(b.dot(a), 5.0);
  EXPECT_DOUBLE_EQ(a.dot(SparseVector{}), 0.0);
}

TEST(SparseVector, RejectsNonFiniteWeights) {
  EXPECT_THROW(SparseVector::from_pairs({{1, std::numeric_limits<float>::quiet_NaN()}}), DataError);
  EXPECT_THROW(SparseVector::from_pairs({{1, std::numeric_limits<float>::infinity()}}), DataError);
}

}  // namespace
}  // namespace ksparse
