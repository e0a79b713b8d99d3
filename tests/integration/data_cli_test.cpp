// `ksparse data` end to end on the real datasets in ../shared/data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <unordered_set>

#include "common/test_util.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::shared_data;
using test::TempDir;
using ::testing::HasSubstr;

TEST(DataCli, KorquadDevGives961Passages5774Queries5774Qrels) {
  TempDir tmp;
  auto in = shared_data("korquad-v1/KorQuAD_v1.0_dev.json");
  auto r = run_cli({"data", "korquad", "--in", in.string(), "--out", (tmp / "kq").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("passages: 961\n"));
  EXPECT_THAT(r.out, HasSubstr("queries: 5774\n"));
  EXPECT_THAT(r.out, HasSubstr("qrels: 5774 (train 0, test 5774)\n"));

  // The files themselves, read back through the validating readers.
  auto docs = read_corpus(tmp / "kq/corpus.jsonl");
  auto queries = read_queries(tmp / "kq/queries.jsonl");
  auto qrels = read_qrels(tmp / "kq/qrels/test.tsv");
  EXPECT_EQ(docs.size(), 961u);
  EXPECT_EQ(queries.size(), 5774u);
  std::size_t judgements = 0;
  for (const auto& [q, d] : qrels) judgements += d.size();
  EXPECT_EQ(judgements, 5774u);
  EXPECT_FALSE(fs::exists(tmp / "kq/qrels/train.tsv"));
  std::unordered_set<std::string> qids, dids;
  for (const auto& q : queries) qids.insert(q.id);
  for (const auto& d : docs) dids.insert(d.id);
  EXPECT_NO_THROW(check_qrels_ids(tmp / "kq/qrels/test.tsv", qids, dids));

  auto m = read_manifest(tmp / "kq", "dataset");
  EXPECT_EQ(m.stats["passages"], 961);
  EXPECT_EQ(m.stats["queries"], 5774);
  EXPECT_EQ(m.stats["qrels"], 5774);
  EXPECT_EQ(m.stats["articles"], 140);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].bytes, fs::file_size(in));
}

TEST(DataCli, KorquadArticleSplitIsDisjointAndReproducible) {
  TempDir tmp;
  auto in = shared_data("korquad-v1/KorQuAD_v1.0_dev.json").string();
  auto r = run_cli({"data", "korquad", "--in", in, "--out", (tmp / "a").string(),
                    "--split-articles", "0.5", "--seed", "13"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto train = read_qrels(tmp / "a/qrels/train.tsv");
  auto test = read_qrels(tmp / "a/qrels/test.tsv");
  EXPECT_EQ(train.size() + test.size(), 5774u);
  // No passage is judged on both sides: articles were split whole.
  std::set<std::string> train_docs;
  for (const auto& [q, d] : train) {
    for (const auto& [doc, g] : d) train_docs.insert(doc);
  }
  for (const auto& [q, d] : test) {
    EXPECT_FALSE(train.count(q)) << q;
    for (const auto& [doc, g] : d) EXPECT_FALSE(train_docs.count(doc)) << doc;
  }
  auto m = read_manifest(tmp / "a", "dataset");
  EXPECT_EQ(m.stats["train_articles"], 70);

  auto r2 = run_cli({"data", "korquad", "--in", in, "--out", (tmp / "b").string(),
                     "--split-articles", "0.5", "--seed", "13"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(test::read_file(tmp / "a/qrels/train.tsv"), test::read_file(tmp / "b/qrels/train.tsv"));
  EXPECT_EQ(test::read_file(tmp / "a/queries.jsonl"), test::read_file(tmp / "b/queries.jsonl"));
}

TEST(DataCli, WikinewsCsvByKoreanColumnNames) {
  TempDir tmp;
  auto in = shared_data("wikinews-ko/wikinews.csv");
  auto r =
      run_cli({"data", "csv", "--in", in.string(), "--out", (tmp / "wn").string(), "--text-col",
               "내용", "--title-col", "제목", "--date-col", "작성일", "--meta-col", "출처"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("passages: 644\n"));
  auto docs = read_corpus(tmp / "wn/corpus.jsonl");
  ASSERT_EQ(docs.size(), 644u);
  EXPECT_EQ(docs[0].id, "d000001");
  EXPECT_EQ(docs[0].title, "버락 오바마 미국 대통령 공식 취임");
  EXPECT_EQ(docs[0].metadata["date"], "2009-01-20");
  EXPECT_THAT(docs[0].metadata["출처"].get<std::string>(),
              ::testing::StartsWith("https://ko.wikinews.org/wiki/"));
  for (const auto& d : docs) EXPECT_FALSE(d.text.empty()) << d.id;
  EXPECT_EQ(read_manifest(tmp / "wn", "dataset").stats["passages"], 644);
}

TEST(DataCli, ErrorsExitNonZeroWithCommandAndReason) {
  TempDir tmp;
  auto in = shared_data("wikinews-ko/wikinews.csv").string();
  auto r =
      run_cli({"data", "csv", "--in", in, "--out", (tmp / "x").string(), "--text-col", "본문"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ksparse data csv: " + in +
                               ": no column named \"본문\"; the header has: 작성일, 출처, 제목, "
                               "내용"));
  auto bad = test::write_file(tmp / "bad.json", "{\"data\": [{\"title\": 1}]}");
  auto r2 = run_cli({"data", "korquad", "--in", bad.string(), "--out", (tmp / "y").string()});
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_THAT(r2.err, HasSubstr("ksparse data korquad: " + bad.string() +
                                ": data[0].title has the wrong type (number)"));
  auto r3 = run_cli({"data", "korquad", "--in", bad.string(), "--out", (tmp / "y").string(),
                     "--split-articles", "1.5"});
  EXPECT_EQ(r3.exit_code, 1);
  EXPECT_THAT(r3.err, HasSubstr("split_articles = 1.5 must be in [0, 1)"));
}

}  // namespace
}  // namespace ksparse
