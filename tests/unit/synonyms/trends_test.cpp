#include "ksparse/synonyms/trends.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"

namespace ksparse::synonyms {
namespace {

// Three years of documents drawn from one background vocabulary (fixed seed); in 2021 the term
// "지진해일" appears in a burst. It also appears, rarely, in the other years.
std::vector<DatedText> synthetic_corpus() {
  const std::vector<std::string> vocab = {"정부",   "발표", "경제", "시장", "국민",
                                          "대통령", "회의", "the",  "news", "사람",
                                          "학교",   "지역", "정책", "기업", "사회"};
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, vocab.size() - 1);
  std::vector<DatedText> docs;
  for (int year = 2020; year <= 2022; ++year) {
    for (int d = 0; d < 40; ++d) {
      std::string text;
      for (int w = 0; w < 60; ++w) text += vocab[pick(rng)] + "은 ";
      if (year == 2021 && d % 2 == 0) text += "지진해일이 지진해일을 ";
      if (year != 2021 && d == 7) text += "지진해일 ";
      const std::string month = d < 20 ? "-03-01" : "-09-15";
      docs.push_back({std::to_string(year) + month, text});
    }
  }
  docs.push_back({"unknown", "지진해일"});
  return docs;
}

TEST(Trends, G2MatchesHandComputation) {
  // a=10 in 100 tokens, b=10 in 900 tokens.
  const double g2 = log_likelihood_g2(10, 10, 90, 890);
  double expect = 0;
  const double n = 1000, r1 = 20, r2 = 980, c1 = 100, c2 = 900;
  for (auto [o, e] : {std::pair{10.0, r1 * c1 / n},
                      {10.0, r1 * c2 / n},
                      {90.0, r2 * c1 / n},
                      {890.0, r2 * c2 / n}})
    expect += 2 * o * std::log(o / e);
  EXPECT_NEAR(g2, expect, 1e-9);
  EXPECT_NEAR(log_likelihood_g2(5, 45, 95, 855), 0.0, 1e-9);  // same rate: no surprise
}

TEST(Trends, InjectedBurstRanksFirstOnlyInItsPeriod) {
  TrendOptions o;
  o.top = 10;
  const TrendReport r = find_trends(synthetic_corpus(), o);
  EXPECT_EQ(r.undated, 1u);
  ASSERT_EQ(r.periods.size(), 3u);
  for (const TrendPeriod& p : r.periods) {
    if (p.period == "2021") {
      ASSERT_FALSE(p.terms.empty());
      EXPECT_EQ(p.terms[0].term, "지진해일");
      EXPECT_EQ(p.terms[0].count, 40u);
      EXPECT_EQ(p.terms[0].docs, 20u);
      EXPECT_EQ(p.terms[0].background, 2u);
      EXPECT_GT(p.terms[0].g2, 50.0);  // far above the 10.83 threshold
      // Background words vary only by chance: far below the burst, if significant at all.
      for (std::size_t i = 1; i < p.terms.size(); ++i)
        EXPECT_LT(p.terms[i].g2, 0.2 * p.terms[0].g2);
    } else {
      for (const TrendTerm& t : p.terms) EXPECT_NE(t.term, "지진해일") << p.period;
    }
  }
  TrendOptions monthly = o;
  monthly.window = "month";
  const TrendReport m = find_trends(synthetic_corpus(), monthly);
  ASSERT_EQ(m.periods.size(), 6u);
  EXPECT_EQ(m.periods[2].period, "2021-03");
  ASSERT_FALSE(m.periods[2].terms.empty());
  EXPECT_EQ(m.periods[2].terms[0].term, "지진해일");
}

TEST(Trends, CorpusFileAndErrors) {
  test::TempDir dir;
  {
    JsonlWriter w(dir / "corpus.jsonl");
    int i = 0;
    for (const DatedText& d : synthetic_corpus()) {
      Document doc{std::to_string(i++).insert(0, "d"), "", d.text, {{"date", d.date}}};
      w.write(doc);
    }
    w.close();
  }
  const TrendReport r = find_trends(dir / "corpus.jsonl", TrendOptions{});
  ASSERT_EQ(r.periods.size(), 3u);
  EXPECT_EQ(r.periods[1].terms.at(0).term, "지진해일");
  EXPECT_EQ(r.to_json()["periods"][1]["terms"][0]["term"], "지진해일");
  TrendOptions bad;
  bad.window = "week";
  EXPECT_THROW(find_trends(dir / "corpus.jsonl", bad), ConfigError);
  TrendOptions other_field;
  other_field.date_field = "published";
  EXPECT_THROW(find_trends(dir / "corpus.jsonl", other_field), DataError);
}

}  // namespace
}  // namespace ksparse::synonyms
