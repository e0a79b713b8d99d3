// `ksparse index build` and `ksparse search` end to end on a tiny hand-written corpus.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::run_cli;
using test::TempDir;
using test::write_file;
using ::testing::AllOf;
using ::testing::HasSubstr;

const char* kCorpus =
    R"({"_id": "seoul", "title": "서울", "text": "서울은 대한민국의 수도이며 가장 큰 도시이다."}
{"_id": "busan", "title": "부산", "text": "부산은 대한민국 제2의 도시이며 큰 항구 도시이다."}
{"_id": "python", "title": "Python", "text": "Python is a popular programming language."}
{"_id": "kimchi", "title": "김치", "text": "김치는 배추를 소금에 절여 만드는 한국의 전통 발효 음식이다."}
{"_id": "rust", "title": "Rust", "text": "Rust is a systems programming language focused on safety."}
)";

const char* kQueries =
    R"({"_id": "q-capital", "text": "대한민국의 수도는 어디인가?"}
{"_id": "q-python", "text": "python language"}
{"_id": "q-kimchi", "text": "발효 음식 김치"}
{"_id": "q-port", "text": "항구 도시"}
{"_id": "q-none", "text": "zzzz qqqq"}
)";

class IndexCli : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = write_file(tmp_ / "corpus.jsonl", kCorpus);
    queries_ = write_file(tmp_ / "queries.jsonl", kQueries);
    index_ = tmp_ / "idx";
  }
  test::CommandResult build(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"index",      "build",  "--corpus", corpus_.string(),
                                     "--analyzer", "bigram", "--out",    index_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  test::CommandResult search(const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"search",    "--index",         index_.string(),
                                     "--queries", queries_.string(), "--k",
                                     "3",         "--out",           out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  TempDir tmp_;
  fs::path corpus_, queries_, index_;
};

TEST_F(IndexCli, BuildsSearchesAndRanksTheObviousDocumentFirst) {
  auto b = build();
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(fs::exists(index_ / "index.ksidx"));
  const Manifest m = read_manifest(index_, "index");
  EXPECT_EQ(m.stats["num_docs"], 5);
  EXPECT_EQ(m.stats["type"], "bm25");
  EXPECT_EQ(m.config["analyzer"]["kind"], "bigram");
  EXPECT_FLOAT_EQ(m.config["bm25"]["k1"].get<float>(), 0.9f);
  EXPECT_FLOAT_EQ(m.config["bm25"]["b"].get<float>(), 0.4f);
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].path, "index.ksidx");

  auto s = search(tmp_ / "run.trec");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const ksparse::Run run = read_trec_run(tmp_ / "run.trec");
  ASSERT_EQ(run.count("q-none"), 0u);  // no query term is in the index: no results
  ASSERT_EQ(run.size(), 4u);
  EXPECT_EQ(run.at("q-capital").front().doc_id, "seoul");
  EXPECT_EQ(run.at("q-kimchi").front().doc_id, "kimchi");
  EXPECT_EQ(run.at("q-port").front().doc_id, "busan");
  EXPECT_EQ(run.at("q-python").front().doc_id, "python");
  // "language" also matches rust; "python" only python. k = 3 caps every list.
  ASSERT_EQ(run.at("q-python").size(), 2u);
  EXPECT_EQ(run.at("q-python")[1].doc_id, "rust");
  for (const auto& [q, docs] : run) EXPECT_LE(docs.size(), 3u) << q;
}

TEST_F(IndexCli, ExhaustiveAndThreadedRunsAreIdentical) {
  ASSERT_EQ(build().exit_code, 0);
  ASSERT_EQ(search(tmp_ / "a.trec", {"--threads", "1"}).exit_code, 0);
  ASSERT_EQ(search(tmp_ / "b.trec", {"--threads", "4"}).exit_code, 0);
  ASSERT_EQ(search(tmp_ / "c.trec", {"--exhaustive"}).exit_code, 0);
  const std::string a = read_file(tmp_ / "a.trec");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_file(tmp_ / "b.trec"));
  EXPECT_EQ(a, read_file(tmp_ / "c.trec"));
}

TEST_F(IndexCli, Bm25ParametersChangeScores) {
  ASSERT_EQ(build().exit_code, 0);
  ASSERT_EQ(search(tmp_ / "default.trec").exit_code, 0);
  ASSERT_EQ(build({"--k1", "1.2", "--b", "0.75"}).exit_code, 0);
  ASSERT_EQ(search(tmp_ / "other.trec").exit_code, 0);
  EXPECT_NE(read_file(tmp_ / "default.trec"), read_file(tmp_ / "other.trec"));
  EXPECT_FLOAT_EQ(read_manifest(index_, "index").config["bm25"]["b"].get<float>(), 0.75f);
}

TEST_F(IndexCli, MissingIndexIsAClearError) {
  auto s = search(tmp_ / "run.trec");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_THAT(s.err, AllOf(HasSubstr("ksparse search:"), HasSubstr(index_.string()),
                           HasSubstr("does not exist"), HasSubstr("ksparse index build")));
}

TEST_F(IndexCli, CorruptIndexIsAClearError) {
  ASSERT_EQ(build().exit_code, 0);
  const fs::path file = index_ / "index.ksidx";
  std::string bytes = read_file(file);
  write_file(file, bytes.substr(0, bytes.size() / 2));
  auto s = search(tmp_ / "run.trec");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_THAT(
      s.err, AllOf(HasSubstr("ksparse search:"), HasSubstr(file.string()), HasSubstr("truncated")));

  bytes[bytes.size() - 5] ^= 0x21;  // same size, flipped payload byte
  write_file(file, bytes);
  s = search(tmp_ / "run.trec");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_THAT(s.err, AllOf(HasSubstr(file.string()), HasSubstr("checksum")));
}

TEST_F(IndexCli, RejectsBadSettingsAndInputs) {
  auto b = build({"--b", "1.5"});
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_THAT(b.err, HasSubstr("bm25.b"));
  b = build({"--analyzer", "klingon"});
  EXPECT_NE(b.exit_code, 0);

  write_file(corpus_, "{\"_id\": \"a\", \"text\": \"x\"}\nnot json\n");
  b = build();
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_THAT(b.err, HasSubstr(corpus_.string() + ":2"));

  write_file(corpus_, kCorpus);
  ASSERT_EQ(build().exit_code, 0);
  auto s = run_cli({"search", "--index", index_.string(), "--queries", queries_.string(), "--k",
                    "0", "--out", (tmp_ / "run.trec").string()});
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_THAT(s.err, HasSubstr("k = 0"));
}

}  // namespace
}  // namespace ksparse
