// BM25 baseline on KorQuAD 1.0 dev as retrieval (961 passages, 5,774 questions): convert, index
// with the bigram analyzer, search, evaluate. A regression gate for the analyzer, BM25 and search:
// an independent implementation (char bigrams + words, Lucene BM25) measured nDCG@10 = 0.954.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_util.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::run_cli;
using test::shared_data;
using test::TempDir;

TEST(KorquadBm25, BigramBm25ReachesNdcgAt10OfAtLeast094) {
  TempDir tmp;
  const fs::path in = shared_data("korquad-v1/KorQuAD_v1.0_dev.json");
  const fs::path data = tmp / "kq", index = tmp / "idx";
  auto r = run_cli({"data", "korquad", "--in", in.string(), "--out", data.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"index", "build", "--corpus", (data / "corpus.jsonl").string(), "--analyzer",
               "bigram", "--out", index.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run = tmp / "run.trec", run_exhaustive = tmp / "run_exhaustive.trec";
  r = run_cli({"search", "--index", index.string(), "--queries", (data / "queries.jsonl").string(),
               "--k", "100", "--out", run.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"search", "--index", index.string(), "--queries", (data / "queries.jsonl").string(),
               "--k", "100", "--exhaustive", "--out", run_exhaustive.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(run), read_file(run_exhaustive)) << "pruned and exhaustive runs differ";

  r = run_cli({"eval", "--qrels", (data / "qrels/test.tsv").string(), "--run", run.string(),
               "--metrics", "ndcg@10,mrr@10,recall@100", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto metrics = nlohmann::json::parse(r.out);
  const double ndcg10 = metrics.at("ndcg@10").get<double>();
  RecordProperty("ndcg_at_10", std::to_string(ndcg10));
  std::printf("KorQuAD dev BM25 (bigram, k1=0.9, b=0.4): %s\n", r.out.c_str());
  EXPECT_GE(ndcg10, 0.94);
  EXPECT_GE(metrics.at("recall@100").get<double>(), 0.99);
}

}  // namespace
}  // namespace ksparse
