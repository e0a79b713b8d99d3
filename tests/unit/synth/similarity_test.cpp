#include "ksparse/synth/similarity.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace ksparse::synth {
namespace {

TEST(NormalizeForDedup, NfkcLowercaseAndWhitespace) {
  EXPECT_EQ(normalize_for_dedup("  BERT\u3000모델\t학습 \n"), "bert 모델 학습");
  EXPECT_EQ(normalize_for_dedup("ＧＰＴ４ 모델"), "gpt4 모델");
  EXPECT_EQ(normalize_for_dedup(""), "");
}

TEST(CharShingles, CountsCodePointsNotBytes) {
  // "한국어" has 3 code points (9 bytes): 2 distinct bigrams.
  EXPECT_EQ(char_shingles("한국어", 2).size(), 2u);
  EXPECT_EQ(char_shingles("가가가가", 2).size(), 1u);  // one distinct bigram
  EXPECT_EQ(char_shingles("가", 3).size(), 1u);        // shorter than n: the whole text
  EXPECT_TRUE(char_shingles("", 3).empty());
  EXPECT_EQ(char_shingles("abc", 3), char_shingles("abc", 3));
}

TEST(Jaccard, ExactValues) {
  const auto a = char_shingles("abcd", 2);  // ab bc cd
  const auto b = char_shingles("bcde", 2);  // bc cd de
  EXPECT_DOUBLE_EQ(jaccard(a, b), 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(containment(a, b), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(jaccard(a, a), 1.0);
  EXPECT_DOUBLE_EQ(jaccard({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(containment({}, b), 0.0);
}

TEST(MinHash, EstimateTracksExactJaccard) {
  // Random sets with known overlap: the 256-hash estimate is within 0.1 of the truth.
  std::mt19937_64 rng(7);
  const MinHasher hasher(256);
  for (int trial = 0; trial < 10; ++trial) {
    std::set<std::uint64_t> sa, sb;
    for (int i = 0; i < 300; ++i) {
      const std::uint64_t x = rng();
      if (i % 3 != 0) sa.insert(x);
      if (i % 3 != 1 || trial % 2) sb.insert(x);
    }
    std::vector<std::uint64_t> a(sa.begin(), sa.end()), b(sb.begin(), sb.end());
    EXPECT_NEAR(minhash_similarity(hasher.signature(a), hasher.signature(b)), jaccard(a, b), 0.1);
  }
}

TEST(MinHash, FixedSeedIsReproducible) {
  const auto s = char_shingles("훈민정음 창제 반포 연도", 3);
  EXPECT_EQ(MinHasher(64, 1).signature(s), MinHasher(64, 1).signature(s));
  EXPECT_NE(MinHasher(64, 1).signature(s), MinHasher(64, 2).signature(s));
  // Pinned value: the hash functions must not change between builds or platforms (caches and
  // dedup decisions depend on them).
  EXPECT_EQ(stable_hash("ksparse"), stable_hash("ksparse", 0));
  EXPECT_NE(stable_hash("ksparse", 1), stable_hash("ksparse", 2));
}

TEST(MinHashIndex, FindsSimilarAndNotUnrelated) {
  const MinHasher hasher(64);
  MinHashIndex index(16);
  auto sig = [&](const char* s) { return hasher.signature(char_shingles(s, 3)); };
  index.add(0, sig("김장 문화 유네스코 인류무형문화유산 등재 연도"));
  index.add(1, sig("서울 지하철 9호선 급행열차 정차역 목록"));
  const auto c = index.candidates(sig("김장 문화 유네스코 인류무형문화유산 등재된 연도"));
  EXPECT_EQ(c, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(index.candidates(sig("제주 올레길 코스 개수와 길이")).empty());
  EXPECT_EQ(index.size(), 2u);
}

}  // namespace
}  // namespace ksparse::synth
