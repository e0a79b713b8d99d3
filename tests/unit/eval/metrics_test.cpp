#include "ksparse/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

// One query, hand-checkable: judged a=3, b=2, c=0, d=1 (R = 3: a, b, d); the run retrieves
// x(unjudged) a c b e in that score order, so grades by rank are 0 3 0 2 0 and d is never found.
const std::map<std::string, int> kJudged = {{"a", 3}, {"b", 2}, {"c", 0}, {"d", 1}};
std::vector<ScoredDoc> run_docs() {
  // Deliberately not in rank order: evaluation must sort by score itself.
  return {{"b", 2.0}, {"e", 1.0}, {"x", 5.0}, {"c", 3.0}, {"a", 4.0}};
}

double one(const std::string& metric) {
  return evaluate_query(kJudged, run_docs(), {parse_metric(metric)}).at(0);
}

TEST(Metrics, NdcgMatchesHandComputedDcg) {
  const double idcg3 = 3.0 / 1.0 + 2.0 / std::log2(3.0) + 1.0 / 2.0;  // ideal grades 3 2 1
  EXPECT_NEAR(one("ndcg@3"), (3.0 / std::log2(3.0)) / idcg3, 1e-12);
  // Below the cutoff the ideal ranking has only 3 relevant docs, so IDCG@5 == IDCG@3.
  EXPECT_NEAR(one("ndcg@5"), (3.0 / std::log2(3.0) + 2.0 / std::log2(5.0)) / idcg3, 1e-12);
  EXPECT_NEAR(one("ndcg@1"), 0.0, 1e-12);
  // Ideal at cutoff 2 uses the two best grades.
  EXPECT_NEAR(one("ndcg@2"), (3.0 / std::log2(3.0)) / (3.0 + 2.0 / std::log2(3.0)), 1e-12);
}

TEST(Metrics, MrrUsesFirstRelevantWithinCutoff) {
  EXPECT_DOUBLE_EQ(one("mrr@1"), 0.0);
  EXPECT_DOUBLE_EQ(one("mrr@2"), 0.5);
  EXPECT_DOUBLE_EQ(one("mrr@10"), 0.5);
}

TEST(Metrics, RecallDividesByAllRelevant) {
  EXPECT_DOUBLE_EQ(one("recall@1"), 0.0);
  EXPECT_DOUBLE_EQ(one("recall@2"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(one("recall@5"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(one("recall@100"), 2.0 / 3.0);
}

TEST(Metrics, PrecisionDividesByKEvenForShortRuns) {
  EXPECT_DOUBLE_EQ(one("p@2"), 0.5);
  EXPECT_DOUBLE_EQ(one("p@5"), 0.4);
  EXPECT_DOUBLE_EQ(one("p@10"), 0.2);  // 2 relevant of k = 10, though only 5 docs retrieved
}

TEST(Metrics, MapCutSumsPrecisionAtRelevantRanksOverR) {
  EXPECT_DOUBLE_EQ(one("map@1"), 0.0);
  EXPECT_DOUBLE_EQ(one("map@2"), (1.0 / 2.0) / 3.0);
  EXPECT_DOUBLE_EQ(one("map@5"), (1.0 / 2.0 + 2.0 / 4.0) / 3.0);
}

TEST(Metrics, TiesBrokenByDocIdDescendingLikeTrecEval) {
  const std::map<std::string, int> rel_a = {{"a", 1}};
  const std::map<std::string, int> rel_b = {{"b", 1}};
  const std::vector<Metric> mrr = {parse_metric("mrr@10")};
  for (const auto& docs : {std::vector<ScoredDoc>{{"a", 1.0}, {"b", 1.0}},
                           std::vector<ScoredDoc>{{"b", 1.0}, {"a", 1.0}}}) {
    EXPECT_DOUBLE_EQ(evaluate_query(rel_a, docs, mrr)[0], 0.5);  // order is b, a
    EXPECT_DOUBLE_EQ(evaluate_query(rel_b, docs, mrr)[0], 1.0);
  }
  std::vector<ScoredDoc> docs = {{"a", 1.0}, {"c", 2.0}, {"b", 1.0}, {"ab", 1.0}};
  sort_trec_order(docs);
  ASSERT_EQ(docs.size(), 4U);
  EXPECT_EQ(docs[0].doc_id, "c");
  EXPECT_EQ(docs[1].doc_id, "b");
  EXPECT_EQ(docs[2].doc_id, "ab");
  EXPECT_EQ(docs[3].doc_id, "a");
}

TEST(Metrics, NoRelevantJudgementGivesZeros) {
  const auto v = evaluate_query({{"a", 0}}, {{"a", 1.0}}, parse_metrics("ndcg@10,mrr@10,p@1"));
  EXPECT_EQ(v, std::vector<double>({0.0, 0.0, 0.0}));
}

TEST(Metrics, NegativeGradeIsNonRelevantWithZeroGain) {
  // As trec_eval: a (-1) at rank 1 adds no gain and is not relevant (checked with pytrec_eval).
  const std::map<std::string, int> judged = {{"a", -1}, {"b", 2}, {"c", 1}};
  const auto v = evaluate_query(judged, {{"a", 3.0}, {"b", 2.0}, {"c", 1.0}},
                                parse_metrics("ndcg@10,p@1,map@10"));
  EXPECT_NEAR(v[0], (2.0 / std::log2(3.0) + 1.0 / 2.0) / (2.0 + 1.0 / std::log2(3.0)), 1e-12);
  EXPECT_DOUBLE_EQ(v[1], 0.0);
  EXPECT_DOUBLE_EQ(v[2], (1.0 / 2.0 + 2.0 / 3.0) / 2.0);
}

TEST(Metrics, DuplicateDocInRunIsDataError) {
  EXPECT_THROW(evaluate_query(kJudged, {{"a", 1.0}, {"b", 3.0}, {"a", 2.0}}, parse_metrics("p@1")),
               DataError);
}

TEST(Evaluate, QuerySetAndMeanConvention) {
  Qrels qrels;
  qrels["q1"] = kJudged;
  qrels["q2"] = {{"z", 0}};  // no relevant doc: skipped
  qrels["q3"] = {{"m", 1}};  // relevant but absent from the run: 0, counted in the mean
  qrels["q5"] = {{"n", 2}};  // present in the run with no documents: same as absent
  qrels["q6"] = {{"k", 1}};  // found at rank 1
  ksparse::Run run;
  run["q1"] = run_docs();
  run["q2"] = {{"z", 1.0}};
  run["q4"] = {{"m", 1.0}};  // not in qrels: ignored
  run["q5"] = {};
  run["q6"] = {{"k", 0.5}, {"j", 0.1}};
  const EvalResult r = evaluate(qrels, run, parse_metrics("mrr@10,p@2"));
  EXPECT_EQ(r.query_ids, std::vector<std::string>({"q1", "q3", "q5", "q6"}));
  EXPECT_EQ(r.num_skipped_no_relevant, 1U);
  EXPECT_EQ(r.num_missing_from_run, 2U);
  EXPECT_EQ(r.num_unjudged_run_queries, 1U);
  ASSERT_EQ(r.per_query.size(), 4U);
  EXPECT_EQ(r.per_query[1], std::vector<double>({0.0, 0.0}));
  EXPECT_DOUBLE_EQ(r.mean[0], (0.5 + 0.0 + 0.0 + 1.0) / 4.0);
  EXPECT_DOUBLE_EQ(r.mean[1], (0.5 + 0.0 + 0.0 + 0.5) / 4.0);
  EXPECT_EQ(r.column(0), std::vector<double>({0.5, 0.0, 0.0, 1.0}));
}

TEST(Evaluate, EmptyQrelsGiveZeroMeans) {
  const EvalResult r = evaluate({}, {{"q", {{"a", 1.0}}}}, parse_metrics("ndcg@10"));
  EXPECT_TRUE(r.query_ids.empty());
  EXPECT_EQ(r.mean, std::vector<double>({0.0}));
}

TEST(Evaluate, DuplicateDocNamesQuery) {
  Qrels qrels = {{"q1", {{"a", 1}}}};
  ksparse::Run run = {{"q1", {{"a", 1.0}, {"a", 0.5}}}};
  try {
    evaluate(qrels, run, parse_metrics("p@1"));
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("q1"), std::string::npos) << e.what();
  }
}

TEST(MetricParse, NamesAndCutoffs) {
  const auto ms = parse_metrics("ndcg@10, MRR@10,recall@100,map@100,P@10,ndcg@10");
  ASSERT_EQ(ms.size(), 5U);  // repeated ndcg@10 kept once
  EXPECT_EQ(ms[0], (Metric{MetricKind::kNdcg, 10}));
  EXPECT_EQ(ms[1], (Metric{MetricKind::kMrr, 10}));
  EXPECT_EQ(ms[2], (Metric{MetricKind::kRecall, 100}));
  EXPECT_EQ(ms[3], (Metric{MetricKind::kMap, 100}));
  EXPECT_EQ(ms[4], (Metric{MetricKind::kPrecision, 10}));
  std::vector<std::string> names;
  for (const auto& m : ms) names.push_back(m.name());
  EXPECT_EQ(names,
            std::vector<std::string>({"ndcg@10", "mrr@10", "recall@100", "map@100", "p@10"}));
}

TEST(MetricParse, BadNamesAreConfigErrors) {
  for (const char* bad : {"bm25@10", "ndcg", "ndcg@", "ndcg@0", "ndcg@-3", "ndcg@1x", "ndcg@x",
                          "@10", "ndcg@99999999999"}) {
    EXPECT_THROW(parse_metric(bad), ConfigError) << bad;
  }
  EXPECT_THROW(parse_metrics(""), ConfigError);
  EXPECT_THROW(parse_metrics(" , "), ConfigError);
  try {
    parse_metrics("ndcg@10,foo@5");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("foo@5"), std::string::npos) << msg;
    EXPECT_NE(msg.find("recall@k"), std::string::npos) << msg;  // lists the known metrics
  }
}

}  // namespace
}  // namespace ksparse
