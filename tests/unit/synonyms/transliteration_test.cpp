#include "ksparse/synonyms/transliteration.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/synonyms/lexicon.h"

namespace ksparse::synonyms {
namespace {

TEST(Transliteration, PhoneStrings) {
  // Epenthetic ㅡ is "_", ㅓ is "E", final ㅇ is "Q".
  EXPECT_EQ(loanword_phones_ko("네트워크"), "NeT_wEK_");
  EXPECT_EQ(loanword_phones_ko("이미지"), "iMiJ_");
  // Post-vocalic r dropped, -er -> E; -tion -> SyEN; ph -> P; magic e.
  EXPECT_EQ(loanword_phones_en("server"), "SEBE");
  EXPECT_EQ(loanword_phones_en("station"), "STaSyEN");
  EXPECT_EQ(loanword_phones_en("phone"), "PoN");
  EXPECT_EQ(loanword_phones_en("game"), "GeiM");
}

TEST(Transliteration, KnownLoanwordsScoreHighAndRankFirst) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"데이터", "data"},      {"컴퓨터", "computer"}, {"네트워크", "network"},
      {"프로그램", "program"}, {"서버", "server"},     {"스테이션", "station"},
      {"파일", "file"},        {"비디오", "video"},    {"텔레비전", "television"}};
  std::vector<std::string> vocab = {"data",    "computer", "network", "program",    "server",
                                    "station", "file",     "video",   "television", "daughter",
                                    "market",  "window",   "apple",   "people",     "service"};
  TransliterationOptions o;
  o.min_score = 0.0;
  o.blocking = false;
  TransliterationMatcher m(vocab, o);
  for (const auto& [ko, en] : pairs) {
    EXPECT_GE(transliteration_score(ko, en), 0.75) << ko << " " << en;
    const auto r = m.match(ko);
    ASSERT_FALSE(r.empty()) << ko;
    EXPECT_EQ(r[0].en, en) << ko;
  }
  // Unrelated words score low.
  EXPECT_LT(transliteration_score("사람", "computer"), 0.5);
  EXPECT_LT(transliteration_score("네트워크", "apple"), 0.5);
}

TEST(Transliteration, FrequencyPriorBreaksNearTies) {
  // "sensor" listed three times (common), "censer" once: equal phones, the common word wins.
  TransliterationOptions o;
  o.min_score = 0.5;
  TransliterationMatcher m({"censer", "sensor", "sensor", "sensor"}, o);
  const auto r = m.match("센서");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].en, "sensor");
  EXPECT_DOUBLE_EQ(r[0].score, r[1].score);  // reported scores are the similarity alone
  o.prior_bonus = 0.0;
  EXPECT_EQ(TransliterationMatcher({"censer", "sensor", "sensor"}, o).match("센서")[0].en,
            "censer");
}

TEST(Transliteration, SpellingVariantsBothMatch) {
  EXPECT_GE(transliteration_score("데이타", "data"), 0.8);
  EXPECT_GE(transliteration_score("컴퓨타", "computer"), 0.7);
}

TEST(Transliteration, OptionsValidated) {
  TransliterationOptions o;
  o.min_score = 1.5;
  EXPECT_THROW(TransliterationMatcher(std::vector<std::string>{"data"}, o), ConfigError);
}

// Acceptance: recall@1 >= 0.8 on the hand-picked MUSE loanword pairs
// (tests/data/synonyms/muse_loanwords.tsv, 123 pairs; the selection rule is in its header),
// candidates = every English word of the MUSE file (about 5,700), default blocking on.
TEST(Transliteration, MuseLoanwordRecallAtOne) {
  const auto muse = read_pair_file(test::shared_data("lexicon/muse-ko-en.0-5000.txt"));
  std::set<std::pair<std::string, std::string>> muse_pairs;
  std::vector<std::string> vocab;
  for (const auto& p : muse) {
    muse_pairs.insert({p.ko, p.en});
    vocab.push_back(p.en);
  }
  const auto gold = read_pair_file(test::fixture("synonyms/muse_loanwords.tsv"));
  ASSERT_GE(gold.size(), 50u);
  for (const auto& p : gold) EXPECT_TRUE(muse_pairs.count({p.ko, p.en})) << p.ko << " " << p.en;

  TransliterationOptions o;
  o.min_score = 0.0;
  o.top_k = 5;
  TransliterationMatcher m(vocab, o);
  std::size_t at1 = 0, at5 = 0;
  for (const auto& p : gold) {
    const auto r = m.match(p.ko);
    if (!r.empty() && r[0].en == p.en) ++at1;
    for (const auto& x : r) at5 += x.en == p.en ? 1 : 0;
  }
  const double r1 = static_cast<double>(at1) / static_cast<double>(gold.size());
  const double r5 = static_cast<double>(at5) / static_cast<double>(gold.size());
  std::printf("MUSE loanwords: n=%zu recall@1=%.3f recall@5=%.3f\n", gold.size(), r1, r5);
  EXPECT_GE(r1, 0.8);
  EXPECT_GE(r5, r1);
}

TEST(LoanwordClassifier, SeparatesLoanwordsFromNativeWords) {
  LoanwordClassifier c;
  EXPECT_DOUBLE_EQ(c.probability("데이터"), 0.5);  // untrained
  c.train({"데이터", "컴퓨터", "네트워크", "프로그램", "서버", "스테이션", "테스트", "클럽"},
          {"사람", "학교", "나라", "정부", "고리", "거리", "회의", "국가"});
  EXPECT_GT(c.probability("데이터베이스"), 0.5);
  EXPECT_GT(c.probability("테스트"), c.probability("학교"));
  EXPECT_LT(c.probability("학교"), 0.5);

  LoanwordClassifier from_pairs;
  const auto [loan, native] = from_pairs.train_from_pairs(
      {{"네트워크", "network"}, {"컴퓨터", "computer"}, {"사람", "person"}, {"학교", "school"}});
  EXPECT_EQ(loan, 2u);
  EXPECT_EQ(native, 2u);
  EXPECT_GT(from_pairs.probability("컴퓨터"), from_pairs.probability("학교"));
}

}  // namespace
}  // namespace ksparse::synonyms
