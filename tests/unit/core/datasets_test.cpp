#include "ksparse/core/datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::TempDir;
using test::write_file;

template <typename E>
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception of the expected type";
  return {};
}

TEST(SplitArticles, FractionDeterminismAndSeedDependence) {
  auto a = split_articles(140, 0.5, 13);
  EXPECT_EQ(std::count(a.begin(), a.end(), true), 70);
  EXPECT_EQ(a, split_articles(140, 0.5, 13));
  EXPECT_NE(a, split_articles(140, 0.5, 14));
  auto b = split_articles(10, 0.25, 1);  // round(2.5) = 3 (half away from zero)
  EXPECT_EQ(std::count(b.begin(), b.end(), true), 3);
  auto none = split_articles(5, 0.0, 1);
  EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
  // Not just the first articles: a shuffle picks from the whole range.
  auto c = split_articles(100, 0.5, 13);
  EXPECT_NE(std::count(c.begin(), c.begin() + 50, true), 50);
}

TEST(SplitArticles, SplitIsRoughlyUniformOverPositions) {
  // Each position should go to train about half the time across seeds.
  std::vector<int> hits(20, 0);
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    auto s = split_articles(20, 0.5, seed);
    for (std::size_t i = 0; i < s.size(); ++i) hits[i] += s[i];
  }
  for (int h : hits) {
    EXPECT_GT(h, 850);
    EXPECT_LT(h, 1150);
  }
}

TEST(Korquad, ConvertsTinyFixtureWithoutSplit) {
  TempDir tmp;
  KorquadOptions o;
  o.input = fixture("io/korquad_tiny.json");
  o.out_dir = tmp / "kq";
  auto stats = convert_korquad(o);
  EXPECT_EQ(stats.passages, 5u);  // 6 paragraphs, one repeated context
  EXPECT_EQ(stats.duplicate_passages, 1u);
  EXPECT_EQ(stats.queries, 8u);
  EXPECT_EQ(stats.qrels, 8u);
  EXPECT_EQ(stats.test_qrels, 8u);
  EXPECT_EQ(stats.articles, 4u);

  auto docs = read_corpus(tmp / "kq/corpus.jsonl");
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0].id, "kq-0-0");
  EXPECT_EQ(docs[0].title, "가");
  EXPECT_EQ(docs[0].text, "가 문단 하나");
  EXPECT_EQ(docs[0].metadata, nlohmann::json({{"article", 0}, {"paragraph", 0}}));
  EXPECT_EQ(docs[2].id, "kq-1-0");

  auto queries = read_queries(tmp / "kq/queries.jsonl");
  ASSERT_EQ(queries.size(), 8u);
  EXPECT_EQ(queries[0].id, "a-0-0");
  EXPECT_EQ(queries[0].text, "가1?");
  EXPECT_EQ(queries[0].metadata["split"], "test");
  EXPECT_EQ(queries[0].metadata["answers"], nlohmann::json::array({"하나"}));
  EXPECT_EQ(queries[0].metadata["title"], "가");

  auto qrels = read_qrels(tmp / "kq/qrels/test.tsv");
  EXPECT_EQ(qrels.size(), 8u);
  EXPECT_EQ(qrels["a-2-0"], (std::map<std::string, int>{{"kq-0-0", 1}}));  // duplicate context
  EXPECT_EQ(qrels["a-1-0"], (std::map<std::string, int>{{"kq-0-1", 1}}));
  EXPECT_FALSE(fs::exists(tmp / "kq/qrels/train.tsv"));

  std::unordered_set<std::string> qids, dids;
  for (const auto& q : queries) qids.insert(q.id);
  for (const auto& d : docs) dids.insert(d.id);
  EXPECT_NO_THROW(check_qrels_ids(tmp / "kq/qrels/test.tsv", qids, dids));

  auto m = read_manifest(tmp / "kq", "dataset");
  EXPECT_EQ(m.stats["passages"], 5);
  EXPECT_EQ(m.config["source"], "korquad");
  EXPECT_EQ(m.config["split_articles"], 0.0);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].bytes, fs::file_size(o.input));
  ASSERT_EQ(m.outputs.size(), 3u);
  EXPECT_EQ(m.outputs[2].path, "qrels/test.tsv");
}

TEST(Korquad, SplitKeepsArticlesWholeAndRemovesStaleFiles) {
  TempDir tmp;
  KorquadOptions o;
  o.input = fixture("io/korquad_tiny.json");
  o.out_dir = tmp / "kq";
  o.split_articles = 0.5;
  o.seed = 3;
  auto stats = convert_korquad(o);
  EXPECT_EQ(stats.train_articles, 2u);
  EXPECT_EQ(stats.train_qrels + stats.test_qrels, 8u);
  auto train = read_qrels(tmp / "kq/qrels/train.tsv");
  auto test = read_qrels(tmp / "kq/qrels/test.tsv");
  EXPECT_EQ(train.size(), stats.train_qrels);
  // An article's questions all land on one side, and the metadata agrees with the files.
  std::map<int, std::set<std::string>> sides;
  for (const auto& q : read_queries(tmp / "kq/queries.jsonl")) {
    const std::string split = q.metadata["split"];
    sides[q.metadata["article"].get<int>()].insert(split);
    EXPECT_EQ(split == "train", train.count(q.id) == 1) << q.id;
    EXPECT_EQ(split == "test", test.count(q.id) == 1) << q.id;
  }
  for (const auto& [article, s] : sides) EXPECT_EQ(s.size(), 1u) << article;
  EXPECT_EQ(read_manifest(tmp / "kq", "dataset").outputs.size(), 4u);

  o.split_articles = 0;
  convert_korquad(o);
  EXPECT_FALSE(fs::exists(tmp / "kq/qrels/train.tsv"));
}

TEST(Korquad, OptionsValidate) {
  KorquadOptions o;
  o.input = "x.json";
  o.out_dir = "out";
  o.split_articles = 1.0;
  EXPECT_EQ(error_of<ConfigError>([&] { o.validate(); }),
            "korquad: split_articles = 1 must be in [0, 1) (fraction of articles for training; 0 "
            "disables the split)");
  o.split_articles = 0.2;
  EXPECT_NO_THROW(o.validate());
  o.input.clear();
  EXPECT_THROW(o.validate(), ConfigError);
}

TEST(Korquad, MalformedInputNamesJsonPath) {
  TempDir tmp;
  KorquadOptions o;
  o.out_dir = tmp / "out";
  o.input = write_file(tmp / "k.json",
                       R"({"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [)"
                       R"({"id": "1", "question": "q"}, {"id": "2"}]}]}]})");
  EXPECT_EQ(error_of<DataError>([&] { convert_korquad(o); }),
            o.input.string() +
                ": data[0].paragraphs[0].qas[1] has no `question`; is this a "
                "KorQuAD/SQuAD file?");
  write_file(o.input, R"({"version": 1})");
  EXPECT_EQ(error_of<DataError>([&] { convert_korquad(o); }),
            o.input.string() + ": the top level has no `data`; is this a KorQuAD/SQuAD file?");
  write_file(o.input, R"({"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [)"
                      R"({"id": "1", "question": "q"}, {"id": "1", "question": "r"}]}]}]})");
  EXPECT_EQ(error_of<DataError>([&] { convert_korquad(o); }),
            o.input.string() +
                ": duplicate question id \"1\" at data[0].paragraphs[0].qas[0] and "
                "data[0].paragraphs[0].qas[1]");
  write_file(o.input, R"({"data": [)");
  EXPECT_EQ(error_of<DataError>([&] { convert_korquad(o); })
                .rfind(o.input.string() + ": not valid "
                                          "JSON: ",
                       0),
            0u);
}

TEST(CsvCorpus, GeneratedIdsTitleDateAndMetadata) {
  TempDir tmp;
  CsvCorpusOptions o;
  o.input = fixture("io/quoted.csv");
  o.out_dir = tmp / "c";
  o.text_col = "내용";
  o.title_col = "제목";
  o.date_col = "날짜";
  o.meta_cols = {"번호"};
  auto stats = convert_csv_corpus(o);
  EXPECT_EQ(stats.passages, 3u);
  EXPECT_EQ(stats.empty_text, 1u);
  auto docs = read_corpus(tmp / "c/corpus.jsonl");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].id, "d000001");
  EXPECT_EQ(docs[2].id, "d000003");
  EXPECT_EQ(docs[0].title, "첫, 번째");
  EXPECT_EQ(docs[0].text, "줄 하나\r\n줄 둘");
  EXPECT_EQ(docs[1].metadata, nlohmann::json({{"date", "2020-01-02"}, {"번호", "2"}}));
  auto m = read_manifest(tmp / "c", "dataset");
  EXPECT_EQ(m.config["text_col"], "내용");
  EXPECT_EQ(m.stats["passages"], 3);
}

TEST(CsvCorpus, IdColumnDuplicatesAndMissingColumns) {
  TempDir tmp;
  CsvCorpusOptions o;
  o.input = write_file(tmp / "t.csv", "id,body\na,x\nb,\"y\ny\"\na,z\n");
  o.out_dir = tmp / "c";
  o.text_col = "body";
  o.id_col = "id";
  EXPECT_EQ(error_of<DataError>([&] { convert_csv_corpus(o); }),
            o.input.string() + ":5: duplicate id \"a\" (first at line 2)");
  write_file(o.input, "id,body\na,x\n,y\n");
  EXPECT_EQ(error_of<DataError>([&] { convert_csv_corpus(o); }),
            o.input.string() + ":3: empty id in column \"id\"");
  o.text_col = "text";
  EXPECT_EQ(error_of<ConfigError>([&] { convert_csv_corpus(o); }),
            o.input.string() + ": no column named \"text\"; the header has: id, body");
  write_file(o.input, "id,body\n");
  o.text_col = "body";
  EXPECT_EQ(error_of<DataError>([&] { convert_csv_corpus(o); }),
            o.input.string() + ": no data rows after the header");
}

}  // namespace
}  // namespace ksparse
