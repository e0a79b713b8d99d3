#include "ksparse/synth/triples.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

using ::testing::HasSubstr;

TEST(Triples, RoundTripThroughJsonl) {
  test::TempDir dir;
  Triple real{"세종대왕이 훈민정음을 반포한 해는?",
              "q1",
              "d1",
              {"d7", "d9"},
              TripleSource::kReal,
              std::nullopt};
  Triple syn{"BERT 모델 학습 방법", "syn-d2-0-0", "d2", {}, TripleSource::kSynthetic, std::nullopt};
  Provenance p;
  p.model = "gemma-3-270m sha256:abc";
  p.template_name = "ko_en_mixed";
  p.template_hash = "ff00";
  p.logprob = -0.75;
  p.style = "mixed";
  p.filters = {{"length", "pass"}, {"round_trip", "pass"}};
  syn.provenance = p;
  write_triples(dir / "t.jsonl", {real, syn});
  const auto back = read_triples(dir / "t.jsonl");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].query, real.query);
  EXPECT_EQ(back[0].negative_ids, real.negative_ids);
  EXPECT_EQ(back[0].source, TripleSource::kReal);
  EXPECT_FALSE(back[0].provenance);
  ASSERT_TRUE(back[1].provenance);
  EXPECT_EQ(back[1].provenance->template_name, "ko_en_mixed");
  EXPECT_EQ(*back[1].provenance->logprob, -0.75);
  EXPECT_EQ(back[1].provenance->filters.at("round_trip"), "pass");
  EXPECT_EQ(back[1].to_json(), syn.to_json());
  // Non-ASCII is written as is, one object per line.
  EXPECT_THAT(test::read_file(dir / "t.jsonl"), HasSubstr("세종대왕"));
}

void expect_error(const std::string& content, const std::string& message) {
  test::TempDir dir;
  const auto path = test::write_file(dir / "bad.jsonl", content);
  try {
    read_triples(path);
    FAIL() << "expected DataError for " << content;
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr(message)) << e.what();
  }
}

TEST(Triples, ErrorsNameFileAndLine) {
  const std::string ok = R"({"query": "q", "query_id": "1", "positive_id": "d", "source": "real"})"
                         "\n\n";
  expect_error(ok + "not json\n", "bad.jsonl:3: not valid JSON");
  expect_error(ok + R"({"query_id": "1", "positive_id": "d", "source": "real"})",
               "bad.jsonl:3: missing field \"query\"");
  expect_error(ok + R"({"query": "", "query_id": "1", "positive_id": "d", "source": "real"})",
               "field \"query\" must be a non-empty string");
  expect_error(ok + R"({"query": "q", "query_id": "1", "positive_id": "d", "source": "llm"})",
               "bad.jsonl:3: \"source\" must be \"real\" or \"synthetic\"");
  expect_error(
      R"({"query": "q", "query_id": "1", "positive_id": "d", "source": "real", "negative_ids": "d2"})",
      "bad.jsonl:1: \"negative_ids\" must be an array");
  expect_error(
      R"({"query": "q", "query_id": "1", "positive_id": "d", "source": "synthetic", "provenance": {"logprob": "high"}})",
      "bad.jsonl:1: provenance \"logprob\" must be a number");
}

TEST(Triples, MissingFileIsIoError) {
  EXPECT_THROW(read_triples("/nonexistent/triples.jsonl"), IoError);
}

}  // namespace
}  // namespace ksparse::synth
