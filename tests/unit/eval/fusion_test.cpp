#include "ksparse/eval/fusion.h"

#include <gtest/gtest.h>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

ksparse::Run run_of(std::initializer_list<std::pair<const char*, double>> docs) {
  ksparse::Run r;
  for (const auto& [id, s] : docs) r["q"].push_back({id, s});
  return r;
}

TEST(FusionTest, RrfSumsReciprocalRanksWithOffset) {
  const ksparse::Run a = run_of({{"d1", 3.0}, {"d2", 2.0}, {"d3", 1.0}});
  const ksparse::Run b = run_of({{"d3", 0.9}, {"d1", 0.5}});
  FusionOptions o;
  o.rrf_k = 60;
  const ksparse::Run f = fuse_runs({a, b}, o);
  ASSERT_EQ(f.at("q").size(), 3u);
  // d1: 1/61 + 1/62; d3: 1/63 + 1/61; d2: 1/62.
  EXPECT_EQ(f.at("q")[0].doc_id, "d1");
  EXPECT_DOUBLE_EQ(f.at("q")[0].score, 1.0 / 61 + 1.0 / 62);
  EXPECT_EQ(f.at("q")[1].doc_id, "d3");
  EXPECT_DOUBLE_EQ(f.at("q")[1].score, 1.0 / 63 + 1.0 / 61);
  EXPECT_EQ(f.at("q")[2].doc_id, "d2");
  EXPECT_DOUBLE_EQ(f.at("q")[2].score, 1.0 / 62);
}

TEST(FusionTest, LinearMinMaxNormalisesEachRunPerQuery) {
  const ksparse::Run a = run_of({{"d1", 10.0}, {"d2", 6.0}, {"d3", 2.0}});  // norm 1, 0.5, 0
  const ksparse::Run b = run_of({{"d3", 0.4}, {"d2", 0.2}, {"d4", 0.0}});   // norm 1, 0.5, 0
  FusionOptions o;
  o.method = FusionMethod::kLinear;
  o.weights = {0.25, 0.75};
  const ksparse::Run f = fuse_runs({a, b}, o);
  const auto& docs = f.at("q");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].doc_id, "d3");  // 0 * .25 + 1 * .75
  EXPECT_DOUBLE_EQ(docs[0].score, 0.75);
  EXPECT_EQ(docs[1].doc_id, "d2");  // .5 * .25 + .5 * .75
  EXPECT_DOUBLE_EQ(docs[1].score, 0.5);
  EXPECT_EQ(docs[2].doc_id, "d1");
  EXPECT_DOUBLE_EQ(docs[2].score, 0.25);
  EXPECT_EQ(docs[3].doc_id, "d4");
  EXPECT_DOUBLE_EQ(docs[3].score, 0.0);
}

TEST(FusionTest, EqualScoresNormaliseToOneAndDepthCutsRuns) {
  const ksparse::Run a = run_of({{"d1", 5.0}, {"d2", 5.0}});
  const ksparse::Run b = run_of({{"d2", 3.0}, {"d1", 2.0}, {"d9", 1.0}});
  FusionOptions o;
  o.method = FusionMethod::kLinear;
  o.depth = 2;  // d9 is beyond the depth of b
  o.k = 10;
  const ksparse::Run f = fuse_runs({a, b}, o);
  const auto& docs = f.at("q");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].doc_id, "d2");
  EXPECT_DOUBLE_EQ(docs[0].score, 2.0);
  EXPECT_DOUBLE_EQ(docs[1].score, 1.0);
}

TEST(FusionTest, QueriesOfEitherRunAreKeptAndKCuts) {
  ksparse::Run a = run_of({{"d1", 1.0}, {"d2", 0.5}});
  ksparse::Run b;
  b["other"].push_back({"x", 1.0});
  FusionOptions o;
  o.k = 1;
  const ksparse::Run f = fuse_runs({a, b}, o);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f.at("q").size(), 1u);
  EXPECT_EQ(f.at("other")[0].doc_id, "x");
}

TEST(FusionTest, RejectsBadOptions) {
  const ksparse::Run a = run_of({{"d1", 1.0}});
  FusionOptions o;
  o.weights = {1.0};
  EXPECT_THROW(fuse_runs({a, a}, o), ConfigError);
  o.weights = {0.0, 0.0};
  EXPECT_THROW(fuse_runs({a, a}, o), ConfigError);
  o.weights = {};
  o.rrf_k = 0;
  EXPECT_THROW(fuse_runs({a}, o), ConfigError);
  EXPECT_THROW(parse_fusion_method("max"), ConfigError);
  EXPECT_EQ(parse_fusion_method("linear"), FusionMethod::kLinear);
}

}  // namespace
}  // namespace ksparse
