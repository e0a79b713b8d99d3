#include "ksparse/synth/retriever.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace ksparse::synth {
namespace {

TEST(Bm25Retriever, RanksTheMatchingPassageFirst) {
  test::TempDir dir;
  test::write_file(
      dir / "c.jsonl",
      "{\"_id\": \"a\", \"title\": \"훈민정음\", \"text\": \"세종대왕이 만든 문자\"}\n"
      "{\"_id\": \"b\", \"title\": \"9호선\", \"text\": \"급행열차가 다니는 지하철\"}\n"
      "{\"_id\": \"c\", \"title\": \"김치\", \"text\": \"배추를 절여 만든 발효 음식\"}\n");
  auto r = Bm25Retriever::from_corpus(dir / "c.jsonl");
  EXPECT_EQ(r->name(), "bm25");
  const auto hits = r->retrieve({"세종대왕 문자", "지하철 급행", "zzz", "만든"}, 2);
  ASSERT_EQ(hits.size(), 4u);
  ASSERT_FALSE(hits[0].empty());
  EXPECT_EQ(hits[0][0].doc_id, "a");
  EXPECT_EQ(hits[1][0].doc_id, "b");
  EXPECT_TRUE(hits[2].empty());   // no known term
  EXPECT_EQ(hits[3].size(), 2u);  // "만든" is in a and c; k = 2
  EXPECT_GE(hits[3][0].score, hits[3][1].score);
}

}  // namespace
}  // namespace ksparse::synth
