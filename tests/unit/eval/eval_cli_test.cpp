// `ksparse eval` end to end on the hand-checkable fixtures in tests/data/eval (see README.md
// there).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>

#include "common/test_util.h"

namespace ksparse::test {
namespace {

std::vector<std::string> base_args(const std::string& metrics) {
  return {"eval",
          "--qrels",
          fixture("eval/qrels.tsv").string(),
          "--run",
          fixture("eval/run_a.trec").string(),
          "--metrics",
          metrics};
}

nlohmann::json run_json(std::vector<std::string> args) {
  const CommandResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);  // throws (test error) on anything but one JSON value
}

// q1 of run_a ranks d c b a (ties by doc id descending): grades 0 0 2 1, R = 2. q4 is absent.
const double kNdcgQ1 = (2.0 / std::log2(4.0) + 1.0 / std::log2(5.0)) / (2.0 + 1.0 / std::log2(3.0));

TEST(EvalCli, JsonIsOneObjectOfMeans) {
  auto args = base_args("ndcg@10,mrr@10,recall@100,map@100,p@10");
  args.push_back("--json");
  const nlohmann::json j = run_json(args);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 5U);
  EXPECT_NEAR(j["ndcg@10"].get<double>(), kNdcgQ1 / 2.0, 1e-12);
  EXPECT_NEAR(j["mrr@10"].get<double>(), (1.0 / 3.0) / 2.0, 1e-12);
  EXPECT_NEAR(j["recall@100"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(j["map@100"].get<double>(), (1.0 / 3.0 + 2.0 / 4.0) / 2.0 / 2.0, 1e-12);
  EXPECT_NEAR(j["p@10"].get<double>(), 0.2 / 2.0, 1e-12);
}

TEST(EvalCli, PerQueryKeepsTopLevelMeans) {
  auto args = base_args("ndcg@10,mrr@10");
  args.insert(args.end(), {"--json", "--per-query"});
  const nlohmann::json j = run_json(args);
  EXPECT_NEAR(j["mrr@10"].get<double>(), 1.0 / 6.0, 1e-12);
  const nlohmann::json& pq = j["per_query"];
  // q2 (no relevant judgement) is skipped, q3 (not judged) ignored, q4 (absent) scores 0.
  ASSERT_EQ(pq.size(), 2U) << pq.dump();
  EXPECT_NEAR(pq["q1"]["ndcg@10"].get<double>(), kNdcgQ1, 1e-12);
  EXPECT_NEAR(pq["q1"]["mrr@10"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(pq["q4"]["ndcg@10"].get<double>(), 0.0);
}

TEST(EvalCli, CompareWithTTestAndRandomization) {
  // mrr@10 per query: A = {1/3, 0}, B = {1, 1}; d = {2/3, 1}, mean 5/6, se = 1/6, t = 5 on 1 df.
  auto args = base_args("mrr@10");
  args.insert(args.end(),
              {"--json", "--compare", fixture("eval/run_b.trec").string(), "--test", "ttest"});
  const nlohmann::json t = run_json(args)["compare"];
  EXPECT_EQ(t["test"], "ttest");
  EXPECT_EQ(t["num_queries"], 2);
  const nlohmann::json& m = t["metrics"]["mrr@10"];
  EXPECT_NEAR(m["a"].get<double>(), 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(m["b"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(m["diff"].get<double>(), 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(m["statistic"].get<double>(), 5.0, 1e-9);
  EXPECT_NEAR(m["p_value"].get<double>(), 1.0 - 2.0 / std::numbers::pi * std::atan(5.0), 1e-9);

  // Randomization over 2 queries is exact: sign sums 5/3, 1/3, -1/3, -5/3, so p = 2/4.
  args[args.size() - 1] = "randomization";
  EXPECT_DOUBLE_EQ(run_json(args)["compare"]["metrics"]["mrr@10"]["p_value"].get<double>(), 0.5);
}

TEST(EvalCli, TableOutput) {
  const CommandResult r = run_cli(base_args("ndcg@10,mrr@10"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("queries evaluated: 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mrr@10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.1667"), std::string::npos) << r.out;
}

TEST(EvalCli, BadFlagsFail) {
  const CommandResult unknown = run_cli(base_args("ndcg@10,bm25@3"));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("ksparse eval: unknown metric 'bm25@3'"), std::string::npos)
      << unknown.err;
  auto args = base_args("ndcg@10");
  args.insert(args.end(), {"--test", "ttest"});  // --test without --compare
  EXPECT_NE(run_cli(args).exit_code, 0);
  EXPECT_NE(run_cli({"eval", "--qrels", "/nonexistent/qrels.tsv", "--run",
                     fixture("eval/run_a.trec").string()})
                .exit_code,
            0);
}

}  // namespace
}  // namespace ksparse::test
