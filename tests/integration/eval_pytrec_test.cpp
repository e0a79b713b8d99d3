// Parity of `ksparse eval` with pytrec_eval (trec_eval) on random qrels/runs with fixed seeds:
// graded relevance 0-3, heavy score ties, doc ids whose byte order differs from numeric order,
// unjudged docs, judged queries absent from the run, run-only queries, queries with no relevant
// judgement, and cutoffs larger than the runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/test_util.h"

namespace ksparse::test {
namespace {

const char* kMetrics =
    "ndcg@10,ndcg@3,ndcg@1000,mrr@10,mrr@2,recall@100,recall@5,map@100,map@5,p@10,p@1,p@50";

struct Generated {
  std::string qrels;
  std::string run;
};

// The pool mixes id shapes so that byte order ("d10" < "d2" < "D3") differs from numeric order.
std::string doc_id(unsigned n) {
  switch (n % 3) {
    case 0:
      return "d" + std::to_string(n);
    case 1:
      return "D" + std::to_string(n);
    default:
      return "doc-" + std::to_string(n * 7 % 50);
  }
}

Generated generate(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  Generated g;
  g.qrels = "query-id\tcorpus-id\tscore\n";
  const unsigned num_queries = 25 + pick(15);
  const unsigned pool = 45;
  for (unsigned q = 0; q < num_queries; ++q) {
    const std::string qid = "q" + std::to_string(q);
    const bool no_relevant = pick(8) == 0;
    const unsigned judged = 1 + pick(12);
    std::set<std::string> seen;
    for (unsigned j = 0; j < judged; ++j) {
      const std::string d = doc_id(pick(pool));
      if (!seen.insert(d).second) continue;
      const unsigned grade = no_relevant ? 0 : pick(4);
      g.qrels += qid + "\t" + d + "\t" + std::to_string(grade) + "\n";
    }
    // Roughly 1 in 6 judged queries is absent from the run.
    if (pick(6) == 0) continue;
    const unsigned len = pick(31);  // 0..30 docs: cutoffs 50, 100, 1000 exceed every run
    std::set<std::string> in_run;
    for (unsigned r = 0; r < len; ++r) {
      const std::string d = doc_id(pick(pool));
      if (!in_run.insert(d).second) continue;
      // Few distinct scores: many ties, resolved by trec_eval's doc id order. Quarters are exact.
      const double score = static_cast<double>(pick(6)) / 4.0 - 0.5;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", score);
      // The rank column is deliberately meaningless: trec_eval ignores it.
      g.run += qid + " Q0 " + d + " " + std::to_string(r + 1) + " " + buf + " rnd\n";
    }
  }
  for (unsigned q = 0; q < 3; ++q) {  // run-only queries
    g.run += "extra" + std::to_string(q) + " Q0 d1 1 1.0 rnd\n";
  }
  return g;
}

nlohmann::json parse_json(const CommandResult& r, const std::string& who) {
  EXPECT_EQ(r.exit_code, 0) << who << " failed: " << r.err;
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << who << " printed invalid JSON (" << e.what() << "):\n" << r.out << r.err;
    return nlohmann::json::object();
  }
}

TEST(EvalParity, MatchesPytrecEvalPerQueryAndMean) {
  const std::string python = KSPARSE_PYREF;
  const std::string script =
      std::string(KSPARSE_SOURCE_DIR) + "/tests/integration/pytrec_compare.py";
  const CommandResult probe = run_program({python, "-c", "import pytrec_eval"});
  ASSERT_EQ(probe.exit_code, 0)
      << "pytrec_eval is not importable by " << python
      << " (run scripts/setup.sh, or configure with -DKSPARSE_PYREF=<python with "
         "pytrec_eval-terrier>): "
      << probe.err;

  std::size_t compared_queries = 0;
  for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir;
    const Generated g = generate(seed);
    const auto qrels = write_file(dir / "qrels.tsv", g.qrels);
    const auto run = write_file(dir / "run.trec", g.run);

    const nlohmann::json ours =
        parse_json(run_cli({"eval", "--qrels", qrels.string(), "--run", run.string(), "--metrics",
                            kMetrics, "--json", "--per-query"}),
                   "ksparse eval");
    const nlohmann::json ref = parse_json(
        run_program({python, script, qrels.string(), run.string(), kMetrics}), "pytrec_compare.py");
    ASSERT_TRUE(ours.contains("per_query")) << ours.dump();
    ASSERT_TRUE(ref.contains("per_query")) << ref.dump();

    std::set<std::string> our_queries, ref_queries;
    for (const auto& [q, v] : ours["per_query"].items()) our_queries.insert(q);
    for (const auto& [q, v] : ref["per_query"].items()) ref_queries.insert(q);
    ASSERT_EQ(our_queries, ref_queries);
    ASSERT_GT(our_queries.size(), 10U);

    for (const auto& [name, ref_mean] : ref.items()) {
      if (name == "per_query") continue;
      ASSERT_TRUE(ours.contains(name)) << name;
      EXPECT_NEAR(ours[name].get<double>(), ref_mean.get<double>(), 1e-6) << "mean " << name;
    }
    for (const auto& [q, ref_row] : ref["per_query"].items()) {
      for (const auto& [name, ref_value] : ref_row.items()) {
        EXPECT_NEAR(ours["per_query"][q][name].get<double>(), ref_value.get<double>(), 1e-6)
            << "query " << q << " metric " << name;
      }
    }
    compared_queries += our_queries.size();
  }
  EXPECT_GT(compared_queries, 80U);
}

}  // namespace
}  // namespace ksparse::test
