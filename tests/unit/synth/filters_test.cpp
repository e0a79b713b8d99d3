#include "ksparse/synth/filters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/synth/rewrite.h"

namespace ksparse::synth {
namespace {

using ::testing::HasSubstr;

const char* kDocSejong =
    "세종대왕은 1443년 훈민정음을 창제하고 1446년에 이를 반포하였다. 훈민정음은 백성이 쉽게 "
    "익혀 쓸 수 있도록 만든 문자로, 오늘날 한글의 바탕이 되었다.";
const char* kDocSubway =
    "서울 지하철 9호선은 개화역에서 중앙보훈병원역까지 운행하며, 급행열차와 일반열차를 함께 "
    "운영한다. 급행열차는 주요 역에만 정차한다.";
const char* kDocKimchi =
    "김치는 배추나 무를 소금에 절인 뒤 고춧가루, 마늘, 젓갈 등으로 버무려 발효시킨 한국의 대표 "
    "음식이다. 2013년에는 김장 문화가 유네스코 인류무형문화유산으로 등재되었다.";

Candidate cand(std::string query, std::string doc_id = "d1", std::string doc_text = kDocSejong,
               QueryLanguage lang = QueryLanguage::kKorean) {
  Candidate c;
  c.query = std::move(query);
  c.doc_id = std::move(doc_id);
  c.doc_text = std::move(doc_text);
  c.language = lang;
  c.mean_logprob = -1.0;
  return c;
}

TEST(LengthFilter, AcceptsOrdinaryKoreanQueries) {
  LengthFilter f;
  EXPECT_EQ(f.check(cand("훈민정음 반포 연도")), std::nullopt);
  EXPECT_EQ(f.check(cand("세종대왕이 훈민정음을 반포한 해는?")), std::nullopt);
}

TEST(LengthFilter, RejectsTooFewTokensAndCharacters) {
  LengthFilter f;
  // "한글" -> head unigram + one bigram = 2 analyzer tokens < 3 (InPars' minimum).
  auto r = f.check(cand("한글 "));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("characters, fewer than 4"));
  r = f.check(cand("세종대왕"));  // 4 chars but 세, 세종, 종대, 대왕 = 4 tokens: passes
  EXPECT_EQ(r, std::nullopt);
  LengthFilterOptions o;
  o.min_chars = 1;
  LengthFilter g(o);
  r = g.check(cand("한글"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "2 tokens, fewer than 3");
  EXPECT_EQ(g.check(cand("AI")), "1 tokens, fewer than 3");
}

TEST(LengthFilter, RejectsTooLong) {
  LengthFilterOptions o;
  o.max_chars = 10;
  LengthFilter f(o);
  auto r = f.check(cand("세종대왕이 훈민정음을 반포한 해는 언제인가요"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("more than 10"));
  o.min_chars = 11;
  EXPECT_THROW(LengthFilter{o}, ConfigError);
}

TEST(ExactDuplicateFilter, NormalisesWidthCaseAndSpace) {
  ExactDuplicateFilter f;
  const Candidate first = cand("BERT 모델 학습 방법");
  EXPECT_EQ(f.check(first), std::nullopt);
  f.keep(first);
  // Full-width Latin (NFKC), upper/lower case, and extra whitespace all collapse.
  auto r = f.check(cand("  ｂｅｒｔ   모델\t학습 방법 "));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("same document"));
  r = f.check(cand("bert 모델 학습 방법", "d2"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("document d1"));
  EXPECT_EQ(f.check(cand("BERT 모델 학습 방법론")), std::nullopt);
}

TEST(NearDuplicateFilter, PerDocumentThresholdIsStricterThanGlobal) {
  NearDuplicateFilter f;  // per-doc 0.6, global 0.8 on character 3-grams
  const Candidate first = cand("훈민정음 창제 반포 연도");
  f.keep(first);
  // Same document, one word changed: Jaccard of 3-grams 0.69 -> rejected per doc.
  auto r = f.check(cand("훈민정음 창제 반포 시기"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("same document"));
  // The same near-duplicate for another document is below the global 0.8: kept.
  EXPECT_EQ(f.check(cand("훈민정음 창제 반포 시기", "d2")), std::nullopt);
  // A different query for the same document passes.
  EXPECT_EQ(f.check(cand("세종대왕 한글 만든 이유")), std::nullopt);
}

TEST(NearDuplicateFilter, GlobalThresholdFindsNearCopiesAcrossDocuments) {
  NearDuplicateFilter f;
  const Candidate first = cand("김장 문화 유네스코 인류무형문화유산 등재 연도", "k1", kDocKimchi);
  f.keep(first);
  // One particle added: Jaccard 0.81 >= 0.8 -> rejected even for another document.
  auto r = f.check(cand("김장 문화 유네스코 인류무형문화유산 등재된 연도", "k2", kDocKimchi));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("Jaccard"));
  EXPECT_THAT(*r, HasSubstr("김장 문화"));
  EXPECT_EQ(f.check(cand("김치 발효 재료 종류", "k2", kDocKimchi)), std::nullopt);
}

TEST(NearDuplicateFilter, DisabledThresholdsAcceptEverything) {
  NearDuplicateFilterOptions o;
  o.per_doc_threshold = 1.5;
  o.global_threshold = 1.5;
  NearDuplicateFilter f(o);
  f.keep(cand("훈민정음 창제 반포 연도"));
  EXPECT_EQ(f.check(cand("훈민정음 창제 반포 연도")), std::nullopt);
  o.bands = 7;
  EXPECT_THROW(NearDuplicateFilter{o}, ConfigError);
}

TEST(CopyFilter, RejectsVerbatimSubstring) {
  CopyFilter f;
  auto r = f.check(cand("훈민정음을 창제하고 1446년에"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "the query is a verbatim substring of the document");
  // Case and spacing do not hide a copy.
  r = f.check(cand("급행열차와   일반열차를 함께", "s1", kDocSubway));
  ASSERT_TRUE(r);
}

TEST(CopyFilter, RejectsHighContainmentButKeepsParaphrases) {
  CopyFilter f;
  // Two copied phrases glued together: not a substring, but nearly all 4-grams are in the doc.
  auto r = f.check(cand("백성이 쉽게 익혀 쓸 수 있도록 만든 문자로 오늘날 한글의 바탕이 되었다"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("character 4-grams occur in the document"));
  EXPECT_EQ(f.check(cand("훈민정음 반포 연도")), std::nullopt);
  EXPECT_EQ(f.check(cand("세종대왕이 만든 문자는 무엇인가요?")), std::nullopt);
}

TEST(ScriptFilter, KoreanQueriesNeedHangul) {
  ScriptFilter f;
  EXPECT_EQ(f.check(cand("9호선 급행 정차역")), std::nullopt);
  EXPECT_EQ(f.check(cand("BERT 모델 학습 방법")), std::nullopt);  // Hangul 6 of 10 letters
  auto r = f.check(cand("seoul subway line 9 express"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("Korean query with too little Hangul"));
  EXPECT_THAT(*r, HasSubstr("Hangul 0.00"));
  r = f.check(cand("東京大學 入試 日程"));
  ASSERT_TRUE(r);
  r = f.check(cand("2013 !!"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "no letters");
}

TEST(RepetitionFilter, KeepsOrdinaryQueriesRejectsLoops) {
  RepetitionFilter f;
  EXPECT_EQ(f.check(cand("세종대왕이 훈민정음을 반포한 해는 언제인가요?")), std::nullopt);
  EXPECT_EQ(f.check(cand("서울 지하철 9호선 급행 정차역")), std::nullopt);
  EXPECT_EQ(f.check(cand("한국 대 한국 축구 경기 결과")), std::nullopt);  // twice is fine
  EXPECT_EQ(f.check(cand("이유이유")), std::nullopt);  // 3 bigrams: too short to judge
  EXPECT_EQ(f.check(cand("서울 - 대전 - 대구 - 부산 고속도로")), std::nullopt);  // "-" is no word
  EXPECT_EQ(f.check(cand("이유 이유 이유")), "the word \"이유\" occurs 3 times (at most 2)");
  auto r = f.check(cand("서울 날씨 서울 날씨 서울 날씨"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("\"서울\" occurs 3 times"));
  // Compared on the normalised form: case and full-width letters fold.
  r = f.check(cand("BERT bert Ｂｅｒｔ 모델"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("\"bert\" occurs 3 times"));
  // No spaces to count words by: 10 syllables, 9 bigrams, 2 distinct.
  EXPECT_EQ(f.check(cand("이유이유이유이유이유")), "2 distinct character bigrams of 9 (0.22 < 0.50)");
  EXPECT_EQ(f.check(cand("하하하하하하하하하")), "1 distinct character bigrams of 8 (0.12 < 0.50)");
}

TEST(RepetitionFilter, OptionsAndPassageSettings) {
  RepetitionFilterOptions o;
  o.max_word_repeats = 0;  // word count off; the bigram check still runs
  RepetitionFilter words_off(o);
  EXPECT_EQ(words_off.check(cand("이유 이유 이유")), std::nullopt);
  EXPECT_TRUE(words_off.check(cand("이유이유이유이유이유")));
  o.min_distinct_bigrams = 1.5;
  EXPECT_THROW(RepetitionFilter{o}, ConfigError);

  // Passages: particles recur in every real text, a loop does not pass.
  RepetitionFilter passages(passage_repetition_options());
  EXPECT_EQ(passages.check(cand(kDocSejong)), std::nullopt);
  EXPECT_EQ(passages.check(cand(kDocKimchi)), std::nullopt);
  std::string loop;
  for (int i = 0; i < 10; ++i) loop += "훈민정음은 한글의 바탕이다. ";
  const auto r = passages.check(cand(loop));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("distinct character bigrams"));
}

TEST(ScriptFilter, EnglishAndMixedStyles) {
  ScriptFilter f;
  EXPECT_EQ(f.check(cand("jeju olle trail courses", "d", kDocSejong, QueryLanguage::kEnglish)),
            std::nullopt);
  auto r = f.check(cand("제주 올레길 코스", "d", kDocSejong, QueryLanguage::kEnglish));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("English query"));
  EXPECT_EQ(f.check(cand("Transformer 어텐션 원리", "d", kDocSejong, QueryLanguage::kMixed)),
            std::nullopt);
  r = f.check(cand("트랜스포머 어텐션 원리", "d", kDocSejong, QueryLanguage::kMixed));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("mixed query"));
  r = f.check(cand("transformer attention", "d", kDocSejong, QueryLanguage::kMixed));
  ASSERT_TRUE(r);
}

TEST(StructureFilter, PassesParsedRejectsWithParseError) {
  StructureFilter f;
  EXPECT_EQ(f.check(cand("훈민정음 반포 연도")), std::nullopt);
  Candidate bad = cand("{\"qu");
  bad.parsed = false;
  bad.parse_error = "unterminated JSON object in the output";
  EXPECT_EQ(f.check(bad), "unterminated JSON object in the output");
}

TEST(LogprobFilter, ThresholdAndMissingValues) {
  LogprobFilter f;  // -3.0
  Candidate c = cand("훈민정음 반포 연도");
  c.mean_logprob = -2.9;
  EXPECT_EQ(f.check(c), std::nullopt);
  c.mean_logprob = -3.5;
  auto r = f.check(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "mean token log-probability -3.50 < -3.00");
  c.mean_logprob.reset();
  EXPECT_EQ(f.check(c), std::nullopt);
  LogprobFilterOptions o;
  o.reject_missing = true;
  EXPECT_EQ(LogprobFilter(o).check(c), "no log-probability from the backend");
  o.min_mean_logprob = -std::numeric_limits<double>::infinity();
  o.reject_missing = false;
  c.mean_logprob = -50.0;
  EXPECT_EQ(LogprobFilter(o).check(c), std::nullopt);
  o.min_mean_logprob = 0.5;
  EXPECT_THROW(LogprobFilter{o}, ConfigError);
}

// A scripted retriever: proves the round-trip filter works through the interface alone.
class TableRetriever : public Retriever {
 public:
  std::vector<std::vector<ScoredDoc>> retrieve(const std::vector<std::string>& queries,
                                               std::size_t k) override {
    std::vector<std::vector<ScoredDoc>> out;
    for (const auto& q : queries) {
      auto& docs = out.emplace_back();
      if (q.find("훈민정음") != std::string::npos) docs = {{"d1", 3.0}, {"d2", 1.0}};
      if (q.find("김장") != std::string::npos) docs = {{"d2", 2.0}, {"d3", 1.5}, {"d1", 1.0}};
      if (docs.size() > k) docs.resize(k);
    }
    return out;
  }
  std::string name() const override { return "table"; }
};

TEST(RoundTripFilter, AnyRetrieverThroughTheInterface) {
  TableRetriever retriever;
  RoundTripFilterOptions o;
  o.k = 2;
  RoundTripFilter f(retriever, o);
  EXPECT_EQ(f.check(cand("훈민정음 반포 연도", "d1")), std::nullopt);
  auto r = f.check(cand("김장 문화 유네스코", "d1"));  // d1 is third, outside top-2
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "source document not in table top-2 (top-1: d2)");
  r = f.check(cand("무관한 질문", "d1"));
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("nothing retrieved"));
}

TEST(RoundTripFilter, Bm25OverARealIndex) {
  test::TempDir dir;
  test::write_file(
      dir / "corpus.jsonl",
      std::string("{\"_id\": \"sejong\", \"title\": \"훈민정음\", \"text\": \"") + kDocSejong +
          "\"}\n{\"_id\": \"subway\", \"title\": \"9호선\", \"text\": \"" + kDocSubway +
          "\"}\n{\"_id\": \"kimchi\", \"title\": \"김치\", \"text\": \"" + kDocKimchi + "\"}\n");
  auto bm25 = Bm25Retriever::from_corpus(dir / "corpus.jsonl");
  RoundTripFilterOptions o;
  o.k = 1;
  RoundTripFilter f(*bm25, o);
  EXPECT_EQ(f.check(cand("훈민정음 반포 연도", "sejong")), std::nullopt);
  EXPECT_EQ(f.check(cand("9호선 급행열차 정차", "subway", kDocSubway)), std::nullopt);
  // A query about kimchi attributed to the subway passage fails the round trip.
  auto r = f.check(cand("김장 문화 유네스코 등재", "subway", kDocSubway));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "source document not in bm25 top-1 (top-1: kimchi)");
}

TEST(Funnel, CountsEachRejectionOnceAndRemembersOnlyKeptCandidates) {
  TableRetriever retriever;
  FilterOptions o;
  o.round_trip.k = 1;
  Funnel funnel = make_default_funnel(o, &retriever);
  std::vector<Candidate> cs;
  cs.push_back(cand("훈민정음 창제 반포 연도"));       // 0 kept
  cs.push_back(cand("훈민정음 창제 반포 연도"));       // 1 exact duplicate of 0
  cs.push_back(cand("한글"));                          // 2 length
  cs.push_back(cand("훈민정음을 창제하고 1446년에"));  // 3 copy
  Candidate garbage = cand("}}}{{");
  garbage.parsed = false;
  garbage.parse_error = "no JSON object in the output";
  cs.push_back(garbage);                                   // 4 structure
  cs.push_back(cand("hunminjeongeum proclamation year"));  // 5 script (Korean expected)
  Candidate unlikely = cand("훈민정음 만든 사람 이름");
  unlikely.mean_logprob = -4.0;
  cs.push_back(unlikely);                                           // 6 logprob
  cs.push_back(cand("훈민정음 창제 반포 시기"));                    // 7 near duplicate of 0
  cs.push_back(cand("김장 문화 유네스코 등재", "d1"));              // 8 round trip (top-1 is d2)
  cs.push_back(cand("김장 문화 유네스코 등재", "d2", kDocKimchi));  // 9 kept (8 was not kept)
  cs.push_back(cand("반포 반포 반포 연도"));                        // 10 repetition
  const FunnelResult r = funnel.run(cs);
  EXPECT_EQ(r.input, 11u);
  EXPECT_EQ(r.kept, (std::vector<std::size_t>{0, 9}));
  const nlohmann::json j = r.to_json();
  EXPECT_EQ(j["input"], 11);
  EXPECT_EQ(j["passed"], 2);
  const nlohmann::json expected = {
      {"structure", 1}, {"length", 1},          {"script", 1},         {"repetition", 1},
      {"copy", 1},      {"logprob", 1},         {"exact_duplicate", 1}, {"near_duplicate", 1},
      {"round_trip", 1}};
  EXPECT_EQ(j["by_filter"], expected);
  EXPECT_EQ(j["order"], (std::vector<std::string>{"structure", "length", "script", "repetition",
                                                  "copy", "logprob", "exact_duplicate",
                                                  "near_duplicate", "round_trip"}));
  ASSERT_EQ(r.rejections.size(), 9u);
  EXPECT_EQ(r.rejections[0].index, 1u);
  EXPECT_EQ(r.rejections[0].filter, "exact_duplicate");
  auto v = r.verdicts(3);
  EXPECT_EQ(v["structure"], "pass");
  EXPECT_EQ(v["copy"], "the query is a verbatim substring of the document");
  EXPECT_EQ(v.count("logprob"), 0u);
  v = r.verdicts(0);
  EXPECT_EQ(v.size(), 9u);
  for (const auto& [name, verdict] : v) EXPECT_EQ(verdict, "pass") << name;
  // Each filter's own counters: the length filter saw everything structure passed.
  EXPECT_EQ(funnel.filters()[0]->rejected(), 1u);
  EXPECT_EQ(funnel.filters()[1]->passed() + funnel.filters()[1]->rejected(), 10u);
}

TEST(Funnel, RoundTripNeedsARetriever) {
  EXPECT_THROW(make_default_funnel(FilterOptions{}, nullptr), ConfigError);
  FilterOptions o;
  o.round_trip_enabled = false;
  Funnel f = make_default_funnel(o, nullptr);
  EXPECT_EQ(f.filters().size(), 8u);
}

}  // namespace
}  // namespace ksparse::synth
