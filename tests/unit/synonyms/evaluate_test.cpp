#include "ksparse/synonyms/evaluate.h"

#include <gtest/gtest.h>

namespace ksparse::synonyms {
namespace {

void add(Dictionary& d, const std::string& ko, const std::string& en, Source s) {
  Provenance p;
  p.source = s;
  p.score = s == Source::kSeed ? 1.0 : 0.8;
  d.add(ko, en, p);
}

TEST(Evaluate, PrecisionRecallBySourceWithSeedExcluded) {
  Gold gold;
  gold["데이터"] = {"data"};
  gold["서버"] = {"server"};
  gold["영화"] = {"film", "movie"};
  gold["학교"] = {"school"};
  gold["사람"] = {"person"};  // also a seed headword below

  Dictionary d;
  add(d, "데이터", "data", Source::kTransliteration);  // correct
  add(d, "데이터", "date", Source::kTransliteration);  // wrong
  add(d, "서버", "server", Source::kPattern);          // correct
  add(d, "서버", "server", Source::kTransliteration);  // same entry, second source
  add(d, "영화", "cinema", Source::kPattern);          // wrong (not in gold)
  add(d, "미지어", "unknown", Source::kPattern);       // headword not in gold: not scored
  add(d, "사람", "person", Source::kSeed);             // seed headword: excluded
  add(d, "사람", "human", Source::kPattern);           // excluded with it

  const EvalReport r = evaluate(d, gold);
  EXPECT_EQ(r.entries, 7u);
  EXPECT_EQ(r.seed_entries, 1u);
  // Scored: 데이터/data, 데이터/date, 서버/server, 영화/cinema.
  EXPECT_EQ(r.overall.scored_pairs, 4u);
  EXPECT_EQ(r.overall.correct_pairs, 2u);
  EXPECT_DOUBLE_EQ(r.overall.precision, 0.5);
  // Gold headwords without the seed one: 4; found: 데이터, 서버.
  EXPECT_EQ(r.overall.gold_headwords, 4u);
  EXPECT_DOUBLE_EQ(r.overall.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.overall.pair_recall, 2.0 / 5.0);
  const EvalScores& tr = r.by_source.at("transliteration");
  EXPECT_EQ(tr.scored_pairs, 3u);
  EXPECT_EQ(tr.correct_pairs, 2u);
  const EvalScores& pat = r.by_source.at("pattern");
  EXPECT_EQ(pat.scored_pairs, 2u);
  EXPECT_DOUBLE_EQ(pat.precision, 0.5);
  EXPECT_EQ(r.by_source.at("llm").scored_pairs, 0u);
  ASSERT_EQ(r.disagreement_count, 2u);
  ASSERT_EQ(r.disagreements.size(), 2u);
  EXPECT_EQ(r.disagreements[0].gold.size() + r.disagreements[1].gold.size(), 3u);

  const auto j = r.to_json();
  for (const char* key : {"entries", "seed_entries", "precision", "recall", "by_source"})
    EXPECT_TRUE(j.contains(key)) << key;

  EvalOptions with_seed;
  with_seed.include_seed = true;
  with_seed.max_disagreements = 1;
  const EvalReport r2 = evaluate(d, gold, with_seed);
  EXPECT_EQ(r2.overall.scored_pairs, 6u);
  EXPECT_EQ(r2.overall.correct_pairs, 3u);
  EXPECT_EQ(r2.disagreement_count, 3u);
  EXPECT_EQ(r2.disagreements.size(), 1u);
}

}  // namespace
}  // namespace ksparse::synonyms
