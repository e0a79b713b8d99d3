#include "ksparse/synonyms/embedding_candidates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ksparse/core/error.h"

namespace ksparse::synonyms {
namespace {

// A made-up embedding: each concept is one axis; Korean and English terms of one concept share
// that axis, and every term of a language also carries a large language offset (as LM hidden
// states do), which centring must remove.
EmbedFn concept_embedder(std::size_t* calls = nullptr) {
  static const std::map<std::string, std::pair<int, int>> kAxis = {
      // term -> (concept axis, language: 0 ko, 1 en)
      {"컴퓨터", {0, 0}}, {"computer", {0, 1}}, {"학교", {1, 0}},  {"school", {1, 1}},
      {"사과", {2, 0}},   {"apple", {2, 1}},    {"강", {3, 0}},    {"river", {3, 1}},
      {"hub", {4, 1}},
  };
  return [calls](const std::vector<std::string>& texts) {
    if (calls != nullptr) ++*calls;
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
      std::vector<float> v(8, 0.0f);
      const auto it = kAxis.find(t);
      if (it == kAxis.end()) throw DataError("unknown term " + t);
      const auto [axis, lang] = it->second;
      if (axis == 4) {
        // A hub: similar to every concept a little, to everything more than any single pair.
        for (int a = 0; a < 4; ++a) v[static_cast<std::size_t>(a)] = 0.6f;
      } else {
        v[static_cast<std::size_t>(axis)] = 1.0f;
      }
      v[6 + static_cast<std::size_t>(lang)] = 3.0f;  // language offset dominates raw cosine
      double n = 0.0;
      for (float x : v) n += x * x;
      for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
      out.push_back(v);
    }
    return out;
  };
}

TEST(EmbeddingCandidates, FindsTranslationsAfterCentringAndCsls) {
  std::size_t calls = 0;
  EmbeddingOptions o;
  o.top_k = 1;
  o.csls_k = 2;
  const auto c = embedding_candidates({"컴퓨터", "학교", "사과", "강"},
                                      {"river", "apple", "hub", "school", "computer"},
                                      concept_embedder(&calls), o);
  EXPECT_EQ(calls, 2u) << "one embed call per language";
  ASSERT_EQ(c.size(), 4u);
  std::map<std::string, std::string> best;
  for (const auto& p : c) {
    EXPECT_EQ(p.source, Source::kEmbedding);
    EXPECT_GT(p.score, 0.0);
    EXPECT_LE(p.score, 1.0);
    EXPECT_NE(p.context.find("rank=1"), std::string::npos);
    best[p.ko] = p.en;
  }
  EXPECT_EQ(best["컴퓨터"], "computer");
  EXPECT_EQ(best["학교"], "school");
  EXPECT_EQ(best["사과"], "apple");
  EXPECT_EQ(best["강"], "river");
}

TEST(EmbeddingCandidates, TopKMinCosineAndMutual) {
  EmbeddingOptions o;
  o.top_k = 3;
  o.csls_k = 2;
  auto c = embedding_candidates({"컴퓨터", "학교"}, {"computer", "school", "apple", "hub"},
                                concept_embedder(), o);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0].ko, "컴퓨터");
  EXPECT_EQ(c[0].en, "computer");
  EXPECT_GE(c[0].score, c[1].score);
  EXPECT_NE(c[1].context.find("rank=2"), std::string::npos);

  // A cosine threshold between the exact matches and the rest keeps only the exact matches.
  double exact = 1.0, other = -1.0;
  for (const auto& p : c) {
    const bool match =
        (p.ko == "컴퓨터" && p.en == "computer") || (p.ko == "학교" && p.en == "school");
    if (match) exact = std::min(exact, p.score);
    if (!match) other = std::max(other, p.score);
  }
  ASSERT_GT(exact, other);
  o.min_cosine = (exact + other) / 2.0;
  c = embedding_candidates({"컴퓨터", "학교"}, {"computer", "school", "apple", "hub"},
                           concept_embedder(), o);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].en, "school");

  // 학교's only English neighbour is "computer", whose best Korean neighbour is 컴퓨터: mutual
  // nearest-neighbour filtering drops 학교 -> computer.
  o.min_cosine = -1.0;
  o.top_k = 1;
  c = embedding_candidates({"컴퓨터", "학교"}, {"computer"}, concept_embedder(), o);
  EXPECT_EQ(c.size(), 2u);
  o.mutual = true;
  c = embedding_candidates({"컴퓨터", "학교"}, {"computer"}, concept_embedder(), o);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ko, "컴퓨터");
}

TEST(EmbeddingCandidates, CentringChangesTheCosineNotTheExactMatch) {
  // Raw cosines are dominated by the shared language offset; the exact concept match wins either
  // way, with a different score.
  EmbeddingOptions raw;
  raw.top_k = 1;
  raw.center = false;
  EmbeddingOptions centred = raw;
  centred.center = true;
  const auto a = embedding_candidates({"강"}, {"river", "school"}, concept_embedder(), raw);
  const auto b = embedding_candidates({"강"}, {"river", "school"}, concept_embedder(), centred);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].en, "river");
  EXPECT_EQ(b[0].en, "river");
  EXPECT_NE(a[0].score, b[0].score);
}

TEST(EmbeddingCandidates, EmptyInputsAndBadEmbedders) {
  EXPECT_TRUE(embedding_candidates({}, {"river"}, concept_embedder()).empty());
  EXPECT_TRUE(embedding_candidates({"강"}, {}, concept_embedder()).empty());
  const EmbedFn short_fn = [](const std::vector<std::string>&) {
    return std::vector<std::vector<float>>{{1.0f}};
  };
  EXPECT_THROW(embedding_candidates({"강", "학교"}, {"river"}, short_fn), DataError);
  const EmbedFn ragged = [](const std::vector<std::string>& t) {
    std::vector<std::vector<float>> out;
    for (std::size_t i = 0; i < t.size(); ++i) out.push_back(std::vector<float>(2 + i, 0.5f));
    return out;
  };
  EXPECT_THROW(embedding_candidates({"강", "학교"}, {"river"}, ragged), DataError);
  EmbeddingOptions bad;
  bad.top_k = 0;
  EXPECT_THROW(embedding_candidates({"강"}, {"river"}, concept_embedder(), bad), ConfigError);
}

TEST(EmbeddingCandidates, TemplatesAreApplied) {
  std::vector<std::string> seen;
  const EmbedFn record = [&seen](const std::vector<std::string>& t) {
    seen.insert(seen.end(), t.begin(), t.end());
    return std::vector<std::vector<float>>(t.size(), std::vector<float>{1.0f, 0.0f});
  };
  EmbeddingOptions o;
  o.ko_template = "단어: {}";
  o.en_template = "word: {}";
  embedding_candidates({"강"}, {"river"}, record, o);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "단어: 강");
  EXPECT_EQ(seen[1], "word: river");
}

}  // namespace
}  // namespace ksparse::synonyms
