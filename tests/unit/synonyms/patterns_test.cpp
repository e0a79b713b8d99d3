#include "ksparse/synonyms/patterns.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/test_util.h"

namespace ksparse::synonyms {
namespace {

// Real Wikinews sentences (tests/data/synonyms/wikinews_sentences.txt), in file order.
std::vector<std::string> sentences() {
  std::ifstream in(test::fixture("synonyms/wikinews_sentences.txt"));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

const PatternMatch* find(const PatternScan& s, const std::string& ko) {
  for (const auto& m : s.matches) {
    if (m.ko == ko) return &m;
  }
  return nullptr;
}

TEST(Patterns, ParticleAfterBracketKoreanTermKeptWhole) {
  const auto s = sentences();
  ASSERT_EQ(s.size(), 13u);
  const PatternScan scan = scan_patterns(s[0]);
  ASSERT_EQ(scan.matches.size(), 1u);
  const PatternMatch& m = scan.matches[0];
  EXPECT_EQ(m.ko, "당원대회");
  EXPECT_EQ(m.en, "caucus");
  EXPECT_EQ(m.particle, "에서");
  EXPECT_EQ(m.kind, PatternKind::kKoEn);
  EXPECT_FALSE(m.acronym);
  EXPECT_NE(m.sentence.find("당원대회(caucus)에서"), std::string::npos);
}

TEST(Patterns, MultiwordEnglishExtendsKoreanSide) {
  const auto s = sentences();
  const PatternScan biden = scan_patterns(s[1]);
  ASSERT_EQ(biden.matches.size(), 1u);
  EXPECT_EQ(biden.matches[0].ko, "조셉 바이든");
  EXPECT_EQ(biden.matches[0].en, "Joseph Biden");
  EXPECT_EQ(biden.matches[0].particle, "이");
  // Quote before the first word does not stop the extension; 2 English words -> 2 Korean words.
  const PatternScan horizons = scan_patterns(s[11]);
  ASSERT_EQ(horizons.matches.size(), 1u);
  EXPECT_EQ(horizons.matches[0].ko, "새로운 지평");
  EXPECT_EQ(horizons.matches[0].en, "New Horizons");
  // A preceding word ending in punctuation is not part of the term.
  const PatternScan brake = scan_patterns(s[12]);
  ASSERT_EQ(brake.matches.size(), 1u);
  EXPECT_EQ(brake.matches[0].ko, "브레이크등");
  EXPECT_EQ(brake.matches[0].en, "Brake lamp");
}

TEST(Patterns, AcronymsFlaggedAndOptional) {
  const auto s = sentences();
  const PatternScan scan = scan_patterns(s[2]);
  ASSERT_EQ(scan.matches.size(), 2u);
  const PatternMatch* eu = find(scan, "유럽연합");
  const PatternMatch* fta = find(scan, "자유무역협정");
  ASSERT_NE(eu, nullptr);
  ASSERT_NE(fta, nullptr);
  EXPECT_EQ(eu->en, "EU");
  EXPECT_TRUE(eu->acronym);
  EXPECT_EQ(eu->particle, "이");
  EXPECT_TRUE(fta->acronym);
  PatternOptions no_acr;
  no_acr.keep_acronyms = false;
  const PatternScan dropped = scan_patterns(s[2], no_acr);
  EXPECT_TRUE(dropped.matches.empty());
  EXPECT_EQ(dropped.rejected.at("acronym"), 2u);
}

TEST(Patterns, JunkRejectedWithReasons) {
  const auto s = sentences();
  // 8시(KST): Korean side glued to a number; 시(KST) alone: one syllable.
  const PatternScan kst = scan_patterns(s[3]);
  EXPECT_TRUE(kst.matches.empty());
  EXPECT_EQ(kst.rejected.at("mixed"), 1u);
  EXPECT_EQ(scan_patterns("오전 시(KST) 현재").rejected.at("short_korean"), 1u);
  // URL in the gloss.
  const PatternScan url = scan_patterns(s[7]);
  EXPECT_TRUE(url.matches.empty());
  EXPECT_EQ(url.rejected.at("url"), 1u);
  // Chemical symbol.
  const PatternScan as = scan_patterns(s[8]);
  EXPECT_TRUE(as.matches.empty());
  EXPECT_EQ(as.rejected.at("symbol"), 1u);
  // Korean gloss of a Korean word (렙토스피라증(세균)) is not a pair; the real one is found.
  const PatternScan sp = scan_patterns(s[6]);
  ASSERT_EQ(sp.matches.size(), 1u);
  EXPECT_EQ(sp.matches[0].ko, "스피로헤타");
  EXPECT_EQ(sp.matches[0].en, "spirochete");
  EXPECT_EQ(sp.matches[0].particle, "");  // "균이" continues the word: not a particle
  EXPECT_EQ(sp.rejected.at("korean_gloss"), 1u);
  // Numbers and dates.
  const PatternScan nums = scan_patterns("회의(2010) 협약(Paris Agreement 2015) 씨(33)");
  EXPECT_TRUE(nums.matches.empty());
  EXPECT_EQ(nums.rejected.at("number"), 2u);
  EXPECT_EQ(nums.rejected.at("date"), 1u);
}

TEST(Patterns, HanjaGlossesRecordedSeparately) {
  const auto s = sentences();
  const PatternScan lee = scan_patterns(s[4]);
  EXPECT_TRUE(lee.matches.empty());
  ASSERT_EQ(lee.hanja.size(), 1u);
  EXPECT_EQ(lee.hanja[0].ko, "이대호");
  EXPECT_EQ(lee.hanja[0].hanja, "李大浩");
  const PatternScan flower = scan_patterns(s[10]);
  EXPECT_TRUE(flower.matches.empty());
  ASSERT_EQ(flower.hanja.size(), 1u);
  EXPECT_EQ(flower.hanja[0].ko, "국화");
}

TEST(Patterns, EnglishBeforeKoreanGloss) {
  const auto s = sentences();
  const PatternScan ufo = scan_patterns(s[5]);
  ASSERT_EQ(ufo.matches.size(), 1u);
  EXPECT_EQ(ufo.matches[0].kind, PatternKind::kEnKo);
  EXPECT_EQ(ufo.matches[0].en, "UFO");
  EXPECT_EQ(ufo.matches[0].ko, "미확인 비행물체");
  EXPECT_EQ(ufo.matches[0].particle, "가");
  const PatternScan kw = scan_patterns(s[9]);
  ASSERT_EQ(kw.matches.size(), 1u);
  EXPECT_EQ(kw.matches[0].en, "kW");
  EXPECT_EQ(kw.matches[0].ko, "킬로와트");
  const PatternScan the = scan_patterns("그 대학살(the massacre)은 끝났다");
  ASSERT_EQ(the.matches.size(), 1u);
  EXPECT_EQ(the.matches[0].en, "massacre");
  // Particle on the Korean gloss is stripped; leading article dropped.
  const PatternScan art = scan_patterns("그는 the Red Shirt Day(레드셔츠데이를) 언급했다");
  ASSERT_EQ(art.matches.size(), 1u);
  EXPECT_EQ(art.matches[0].en, "Red Shirt Day");
  EXPECT_EQ(art.matches[0].ko, "레드셔츠데이");
}

TEST(Patterns, BracketVariants) {
  const PatternScan s = scan_patterns(
      "데이터（data）를 모으고 딥러닝[deep learning]으로 학습한 뒤 「서버」 대신 "
      "클라우드【cloud】에 둔다.");
  ASSERT_EQ(s.matches.size(), 3u);
  EXPECT_EQ(s.matches[0].ko, "데이터");
  EXPECT_EQ(s.matches[0].en, "data");
  EXPECT_EQ(s.matches[0].particle, "를");
  EXPECT_EQ(s.matches[1].ko, "딥러닝");
  EXPECT_EQ(s.matches[1].en, "deep learning");
  EXPECT_EQ(s.matches[1].particle, "으로");
  EXPECT_EQ(s.matches[2].ko, "클라우드");
  EXPECT_EQ(s.matches[2].en, "cloud");
  // 「서버」 has no term before it.
  EXPECT_EQ(s.rejected.at("korean_gloss"), 1u);
}

TEST(Patterns, AggregatorCountsAndScores) {
  PatternAggregator agg;
  agg.add_document("d1", "민주당 당원대회(caucus)에서 이겼다. 공화당 당원대회(caucus)도 열렸다.");
  agg.add_document("d2", "당원대회(caucus)가 끝났다. 당원대회(convention)는 아니다.");
  agg.add_document("d3", "유럽연합(EU)이 말했다.");
  EXPECT_EQ(agg.documents(), 3u);
  EXPECT_EQ(agg.matches(), 5u);
  const Dictionary d = agg.to_dictionary();
  const Entry* caucus = d.find("당원대회", "caucus");
  ASSERT_NE(caucus, nullptr);
  const Provenance* p = caucus->find(Source::kPattern);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->count, 3u);
  // c/(c+1) * c/n_ko = 3/4 * 3/4
  EXPECT_DOUBLE_EQ(p->score, 0.75 * 0.75);
  EXPECT_NE(p->note.find("docs=2"), std::string::npos);
  EXPECT_EQ(p->evidence.size(), 3u);
  EXPECT_EQ(p->evidence[0].doc_id, "d1");
  const Entry* conv = d.find("당원대회", "convention");
  ASSERT_NE(conv, nullptr);
  EXPECT_DOUBLE_EQ(conv->score(), 0.5 * 0.25);
  const Entry* eu = d.find("유럽연합", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_NE(eu->provenance[0].note.find("acronym"), std::string::npos);

  // Gloss form: names/titles and acronyms weigh less unless the Korean spells them out.
  PatternAggregator forms;
  forms.add_document("d1",
                     "음반(Let's Talk About Love)을 냈다. 태풍 볼라벤(BOLAVEN)이 왔다. "
                     "국제 올림픽 위원회(IOC)가 말했다.");
  const Dictionary fd = forms.to_dictionary();
  ASSERT_EQ(fd.size(), 3u);
  EXPECT_DOUBLE_EQ(fd.find("음반", "let's talk about love")->score(), 0.3 * 0.5);
  EXPECT_DOUBLE_EQ(fd.find("볼라벤", "bolaven")->score(), 0.5);
  EXPECT_DOUBLE_EQ(fd.find("위원회", "ioc")->score(), 0.5 * 0.5);

  PatternOptions o;
  o.min_count = 2;
  PatternAggregator strict(o);
  strict.add_document("d1", "당원대회(caucus) 당원대회(caucus) 유럽연합(EU)");
  EXPECT_EQ(strict.to_dictionary().size(), 1u);
}

}  // namespace
}  // namespace ksparse::synonyms
