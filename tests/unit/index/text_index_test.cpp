#include "ksparse/index/text_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/index/index_builder.h"

namespace ksparse {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class TextIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ =
        test::write_file(dir_ / "corpus.jsonl",
                         "{\"_id\": \"a\", \"title\": \"Seoul\", \"text\": \"capital city city\"}\n"
                         "{\"_id\": \"b\", \"text\": \"port city\"}\n");
    options_.show_progress = false;
  }
  test::TempDir dir_;
  std::filesystem::path corpus_;
  Bm25IndexOptions options_;
};

TEST_F(TextIndex, BuildsFromCorpusWithTitleAndRecordsAnalyzer) {
  options_.analyzer.kind = "word";
  const InvertedIndex idx = build_bm25_index(corpus_, options_);
  EXPECT_EQ(idx.num_docs(), 2u);
  EXPECT_EQ(idx.doc_length(0), 4u);  // seoul capital city city
  EXPECT_EQ(idx.doc_length(1), 2u);
  EXPECT_TRUE(idx.find_term("seoul").has_value());  // title indexed, lowercased
  EXPECT_EQ(index_analyzer_options(idx).kind, "word");

  options_.index_title = false;
  EXPECT_FALSE(build_bm25_index(corpus_, options_).find_term("seoul").has_value());
}

TEST_F(TextIndex, EncodeQueryCountsKnownTermsOnly) {
  options_.analyzer.kind = "word";
  const InvertedIndex idx = build_bm25_index(corpus_, options_);
  const Analyzer analyzer(index_analyzer_options(idx));
  const SparseVector q = encode_query(idx, analyzer, "City city PORT unknown");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.weight(*idx.find_term("city")), 2.0f);
  EXPECT_EQ(q.weight(*idx.find_term("port")), 1.0f);
}

TEST_F(TextIndex, IndexDirectoryRoundTripWithManifest) {
  const InvertedIndex built = build_bm25_index(corpus_, options_);
  write_index_dir(dir_ / "idx", built, options_, corpus_);
  const Manifest m = read_manifest(dir_ / "idx", "index");
  EXPECT_EQ(m.stats["num_docs"], 2);
  ASSERT_EQ(m.inputs.size(), 1u);
  const InvertedIndex idx = open_index_dir(dir_ / "idx");
  EXPECT_EQ(idx.num_terms(), built.num_terms());
  const auto hits =
      Searcher(idx).search(encode_query(idx, Analyzer(index_analyzer_options(idx)), "port"), {});
  ASSERT_EQ(hits.size(), 1u);
  const ksparse::Run run = hits_to_run(idx, {"q1", "q2"}, {hits, {}});
  ASSERT_EQ(run.size(), 1u);  // q2 had no hits
  EXPECT_EQ(run.at("q1").front().doc_id, "b");
}

TEST_F(TextIndex, ClearErrors) {
  EXPECT_THAT([&] { open_index_dir(dir_ / "nope"); },
              ::testing::ThrowsMessage<IoError>(
                  AllOf(HasSubstr("does not exist"), HasSubstr("ksparse index build"))));
  test::write_file(dir_ / "empty.jsonl", "\n");
  EXPECT_THROW(build_bm25_index(dir_ / "empty.jsonl", options_), DataError);
  IndexBuilder b(IndexType::kImpact);
  b.add("x", SparseVector::from_pairs({{b.dictionary().add("t"), 1.0f}}), 0);
  EXPECT_THROW(index_analyzer_options(b.build()), IoError);
  options_.bm25.k1 = -1.0f;
  EXPECT_THROW(build_bm25_index(corpus_, options_), ConfigError);
}

}  // namespace
}  // namespace ksparse
