#include "ksparse/index/bm25.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

TEST(Bm25, DefaultsMatchAnserini) {
  Bm25Params p;
  EXPECT_FLOAT_EQ(p.k1, 0.9f);
  EXPECT_FLOAT_EQ(p.b, 0.4f);
  EXPECT_NO_THROW(p.validate());
}

TEST(Bm25, IdfIsLuceneVariantAndPositive) {
  EXPECT_NEAR(bm25_idf(10, 1), std::log(1.0 + 9.5 / 1.5), 1e-6);
  EXPECT_NEAR(bm25_idf(10, 10), std::log(1.0 + 0.5 / 10.5), 1e-6);
  EXPECT_GT(bm25_idf(10, 10), 0.0f);
  EXPECT_GT(bm25_idf(100, 1), bm25_idf(100, 50));
}

TEST(Bm25, TermScoreByHand) {
  Bm25Params p{1.2f, 0.75f};
  // idf 2, tf 3, doc twice the average length: 2 * 3 * 2.2 / (3 + 1.2 * (0.25 + 1.5)) = 13.2/5.1
  EXPECT_NEAR(bm25_term_score(2.0f, 3.0f, 20.0f, 10.0f, p), 13.2 / 5.1, 1e-5);
  // b = 0 ignores length; k1 = 0 ignores tf.
  EXPECT_FLOAT_EQ(bm25_term_score(1.0f, 2.0f, 5.0f, 10.0f, {0.9f, 0.0f}),
                  bm25_term_score(1.0f, 2.0f, 50.0f, 10.0f, {0.9f, 0.0f}));
  EXPECT_FLOAT_EQ(bm25_term_score(1.5f, 7.0f, 5.0f, 10.0f, {0.0f, 0.4f}), 1.5f);
}

TEST(Bm25, ValidateRejectsOutOfRange) {
  EXPECT_THROW((Bm25Params{-0.1f, 0.4f}.validate()), ConfigError);
  EXPECT_THROW((Bm25Params{0.9f, 1.5f}.validate()), ConfigError);
  EXPECT_THROW((Bm25Params{0.9f, -0.1f}.validate()), ConfigError);
  EXPECT_THROW((Bm25Params{NAN, 0.4f}.validate()), ConfigError);
}

}  // namespace
}  // namespace ksparse
