#include "ksparse/synth/negatives.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

// Passages about subways; p2 is a near copy of p1 (one word changed), p9 is off topic.
const std::vector<std::pair<std::string, std::string>> kPassages = {
    {"p1", "서울 지하철 9호선 급행열차는 주요 역에만 정차하며 출퇴근 시간을 크게 줄였다"},
    {"p2", "서울 지하철 9호선 급행열차는 주요 역에만 정차하며 출근 시간을 크게 줄였다"},
    {"p3", "서울 지하철 2호선은 순환선으로 시청과 강남을 잇는다"},
    {"p4", "부산 지하철 1호선은 노포에서 다대포해수욕장까지 운행한다"},
    {"p5", "지하철 급행열차 도입은 여러 도시에서 논의되고 있다"},
    {"p6", "서울 지하철 요금은 거리에 따라 추가 요금이 붙는다"},
    {"p7", "대구 지하철 3호선은 모노레일 방식의 경전철이다"},
    {"p8", "인천 지하철 2호선은 무인 운전으로 운행된다"},
    {"p9", "김치는 배추를 소금에 절여 발효시킨 음식이다"},
};

struct Fixture {
  test::TempDir dir;
  std::unordered_map<std::string, Document> corpus;
  std::unique_ptr<Bm25Retriever> bm25;
  Fixture() {
    std::string text;
    for (const auto& [id, t] : kPassages) {
      text += nlohmann::json{{"_id", id}, {"text", t}}.dump() + "\n";
      corpus[id] = Document{id, "", t, {}};
    }
    test::write_file(dir / "corpus.jsonl", text);
    bm25 = Bm25Retriever::from_corpus(dir / "corpus.jsonl");
  }
};

Triple triple(std::string q, std::string id, std::string pos) {
  return {std::move(q), std::move(id), std::move(pos), {}, TripleSource::kSynthetic, std::nullopt};
}

TEST(MineNegatives, ExcludesPositiveAndItsNearDuplicates) {
  Fixture fx;
  std::vector<Triple> ts = {triple("서울 지하철 9호선 급행열차", "q1", "p1")};
  NegativeMiningOptions o;
  o.k = 8;
  o.per_query = 8;
  const auto stats = mine_negatives(ts, fx.corpus, *fx.bm25, o);
  const auto& neg = ts[0].negative_ids;
  EXPECT_FALSE(neg.empty());
  EXPECT_THAT(neg, ::testing::Not(::testing::Contains("p1")));
  EXPECT_THAT(neg, ::testing::Not(::testing::Contains("p2")));  // near copy of the positive
  EXPECT_THAT(neg, ::testing::Contains("p3"));
  EXPECT_THAT(neg, ::testing::Not(::testing::Contains("p9")));  // not retrieved at all
  EXPECT_EQ(stats.excluded_positive, 1u);
  EXPECT_EQ(stats.excluded_near_duplicate, 1u);
  // With the near-duplicate test off, p2 comes back as a (false) negative.
  o.near_duplicate_threshold = 2.0;
  std::vector<Triple> again = {triple("서울 지하철 9호선 급행열차", "q1", "p1")};
  mine_negatives(again, fx.corpus, *fx.bm25, o);
  EXPECT_THAT(again[0].negative_ids, ::testing::Contains("p2"));
}

TEST(MineNegatives, DeterministicPerQueryAndSeeded) {
  Fixture fx;
  NegativeMiningOptions o;
  o.k = 8;
  o.per_query = 2;
  auto run = [&](std::vector<Triple> ts, std::uint64_t seed) {
    o.seed = seed;
    mine_negatives(ts, fx.corpus, *fx.bm25, o);
    return ts;
  };
  const std::vector<Triple> ts = {triple("지하철 노선 운행", "a", "p3"),
                                  triple("지하철 급행열차", "b", "p5")};
  const auto r1 = run(ts, 1);
  const auto r1b = run({ts[1], ts[0]}, 1);  // order does not matter
  EXPECT_EQ(r1[0].negative_ids, r1b[1].negative_ids);
  EXPECT_EQ(r1[1].negative_ids, r1b[0].negative_ids);
  EXPECT_EQ(r1[0].negative_ids.size(), 2u);
  bool differs = false;
  for (std::uint64_t s = 2; s < 12; ++s)
    differs |= run(ts, s)[0].negative_ids != r1[0].negative_ids;
  EXPECT_TRUE(differs);
}

TEST(MineNegatives, OtherPositivesOfTheSameQueryAreNotNegatives) {
  Fixture fx;
  std::vector<Triple> ts = {triple("지하철 노선", "a", "p3"), triple("지하철 노선", "a2", "p4")};
  NegativeMiningOptions o;
  o.k = 9;
  o.per_query = 9;
  mine_negatives(ts, fx.corpus, *fx.bm25, o);
  EXPECT_THAT(ts[0].negative_ids, ::testing::Not(::testing::Contains("p4")));
  EXPECT_THAT(ts[1].negative_ids, ::testing::Not(::testing::Contains("p3")));
}

TEST(MineNegativesFiles, WritesTriplesAndManifestAndChecksIds) {
  Fixture fx;
  write_triples(fx.dir / "t.jsonl", {triple("서울 지하철 9호선 급행열차", "q1", "p1")});
  NegativeMiningOptions o;
  const auto stats =
      mine_negatives_files(fx.dir / "corpus.jsonl", fx.dir / "t.jsonl", fx.dir / "out", o);
  EXPECT_EQ(stats.triples, 1u);
  const auto back = read_triples(fx.dir / "out" / "triples.jsonl");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].negative_ids.size(), 4u);
  EXPECT_TRUE(std::filesystem::exists(fx.dir / "out" / "manifest.json"));
  write_triples(fx.dir / "bad.jsonl", {triple("질문", "q1", "nope")});
  EXPECT_THROW(
      mine_negatives_files(fx.dir / "corpus.jsonl", fx.dir / "bad.jsonl", fx.dir / "out2", o),
      DataError);
}

TEST(MineNegativesCli, Runs) {
  Fixture fx;
  write_triples(fx.dir / "t.jsonl", {triple("서울 지하철 9호선 급행열차", "q1", "p1")});
  const auto r =
      test::run_cli({"synth", "negatives", "--corpus", (fx.dir / "corpus.jsonl").string(),
                     "--triples", (fx.dir / "t.jsonl").string(), "--out", (fx.dir / "cli").string(),
                     "--k", "6", "--per-query", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto back = read_triples(fx.dir / "cli" / "triples.jsonl");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].negative_ids.size(), 3u);
  const auto bad = test::run_cli(
      {"synth", "negatives", "--corpus", (fx.dir / "corpus.jsonl").string(), "--triples",
       (fx.dir / "missing.jsonl").string(), "--out", (fx.dir / "cli2").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, ::testing::HasSubstr("ksparse synth negatives:"));
}

}  // namespace
}  // namespace ksparse::synth
