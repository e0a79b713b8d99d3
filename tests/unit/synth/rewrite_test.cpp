#include "ksparse/synth/rewrite.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/test_util.h"
#include "fake_backend.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

// A template in the shape of configs/prompts/near_miss_negative.toml: {query} and {document}.
const char* kNearMiss = R"toml(
style = "near_miss"
language = "ko"
output = "line"
num_examples = 1
max_tokens = 64
stop = ["\n"]
example = '''{passage}
답이 없는 문서: {query}'''
prompt = '''{examples}

질문: {query}
문서: {document}
답이 없는 문서:'''
[[examples]]
passage = "질문: 올레길 코스 수\n문서: 제주 올레길은 27개 코스다."
query = "한라산 둘레길은 숲길이다."
)toml";

// Paraphrase-shaped template: the fake backend answers with words of the line after "문서: ".
const char* kParaphrase = R"toml(
style = "paraphrase"
language = "ko"
num_examples = 1
stop = ["\n"]
response_prefix = '{"query": "'
example = '''문서: {passage}
바꾼 검색어: {"query": "{query}"}'''
prompt = '''{examples}

문서: {document}
바꾼 검색어: '''
[[examples]]
passage = "9호선 급행 정차역"
query = "지하철 9호선 급행열차가 서는 역"
)toml";

Candidate overlap_cand(const std::string& query, const std::string& text) {
  Candidate c;
  c.doc_text = query;  // the source of a pseudo-document is the query
  c.query = text;      // the generated passage
  return c;
}

TEST(TermOverlapFilter, PseudoDocumentMustBeAboutTheQuery) {
  TermOverlapFilter f;
  EXPECT_FALSE(f.check(overlap_cand("훈민정음 반포 연도",
                                    "세종대왕은 1443년 훈민정음을 창제하고 1446년에 반포하였다.")));
  const auto off_topic =
      f.check(overlap_cand("훈민정음 반포 연도", "부산 국제영화제는 매년 가을 해운대에서 열린다."));
  ASSERT_TRUE(off_topic);
  EXPECT_NE(off_topic->find("0.00 of the query's terms"), std::string::npos) << *off_topic;
  TermOverlapFilterOptions strict;
  strict.min_share = 1.0;
  TermOverlapFilter all(strict);
  EXPECT_TRUE(all.check(overlap_cand("훈민정음 반포 연도", "훈민정음은 1446년에 반포되었다.")));
  strict.min_share = 1.5;
  EXPECT_THROW(TermOverlapFilter{strict}, ConfigError);
}

TEST(PassageFunnel, RejectsEchoesShortAndEnglishOutputs) {
  FilterOptions fo;
  fo.length = passage_length_options();
  TermOverlapFilterOptions overlap;
  Funnel funnel = make_passage_funnel(fo, &overlap);
  const std::string q = "김장 문화가 유네스코 무형문화유산이 된 해";
  std::vector<Candidate> cs = {
      overlap_cand(q,
                   "김장 문화는 2013년 유네스코 인류무형문화유산으로 등재되었으며, 가족과 이웃이 "
                   "함께 김치를 담그는 풍습이다."),  // kept
      overlap_cand(q, "김장 문화 유네스코"),         // length: too short for a passage
      overlap_cand(q,
                   "Kimjang, the making of kimchi, was inscribed by UNESCO in 2013 as "
                   "intangible heritage."),  // script
      // copy: the (long) query echoed back with a full stop
      overlap_cand(q + "와 그 까닭은 무엇인가요", q + "와 그 까닭은 무엇인가요."),
      overlap_cand(q,
                   "부산 국제영화제는 매년 가을 해운대 일대에서 열리며 아시아 영화를 소개하는 "
                   "대표적인 영화제이다."),  // term_overlap
  };
  for (auto& c : cs) c.mean_logprob = -1.0;
  const FunnelResult r = funnel.run(cs);
  EXPECT_EQ(r.kept, (std::vector<std::size_t>{0}));
  ASSERT_EQ(r.rejections.size(), 4u);
  EXPECT_EQ(r.rejections[0].filter, "length");
  EXPECT_EQ(r.rejections[1].filter, "script");
  EXPECT_EQ(r.rejections[2].filter, "copy");
  EXPECT_EQ(r.rejections[3].filter, "term_overlap");
  EXPECT_EQ(r.order.back(), "term_overlap");
}

TEST(DictionaryVariants, SwapsOneTermEachWayKeepingParticles) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"데이터", "data"}, {"모델", "model"}, {"학습", "training"}, {"차", "tea"}};
  const auto v = dictionary_variants("BERT 모델 학습 방법", pairs, 5);
  EXPECT_EQ(v, (std::vector<std::string>{"BERT model 학습 방법", "BERT 모델 training 방법"}));
  // A particle stays; a longer word that merely starts with the term does not match.
  EXPECT_EQ(dictionary_variants("데이터를 정리하는 데이터베이스", pairs, 5),
            (std::vector<std::string>{"data를 정리하는 데이터베이스"}));
  EXPECT_TRUE(dictionary_variants("차량 정비", pairs, 5).empty());
  // English -> Korean, case-insensitively.
  EXPECT_EQ(dictionary_variants("Data 분석", pairs, 5), (std::vector<std::string>{"데이터 분석"}));
  EXPECT_EQ(dictionary_variants("BERT 모델 학습 방법", pairs, 1).size(), 1u);
}

TEST(ReadSynonymPairs, ReadsTheDictionaryFormatWithAScoreCut) {
  ksparse::test::TempDir dir;
  const auto path = ksparse::test::write_file(dir / "synonyms.json",
                                              R"({"format_version": 1, "entries": [
           {"ko": "데이터", "en": "data", "score": 0.93, "sources": ["transliteration"]},
           {"ko": "컴퓨타", "en": "computer", "score": 0.2}]})");
  EXPECT_EQ(read_synonym_pairs(path, 0.5),
            (std::vector<std::pair<std::string, std::string>>{{"데이터", "data"}}));
  EXPECT_EQ(read_synonym_pairs(path).size(), 2u);
  ksparse::test::write_file(dir / "bad.json", R"({"entries": [{"ko": 3}]})");
  EXPECT_THROW(read_synonym_pairs(dir / "bad.json"), DataError);
  EXPECT_THROW(read_synonym_pairs(dir / "missing.json"), IoError);
}

TEST(PromptBuilder, FillsTheQueryOfARewriteItem) {
  PromptBuilder b(parse_prompt_template(kNearMiss, "nm.toml"), {});
  Document d{
      "q1", "", "세종대왕은 1446년에 훈민정음을 반포하였다.", {{"query", "훈민정음 반포 연도"}}};
  const std::string p = b.build(d, 0);
  EXPECT_NE(p.find("질문: 훈민정음 반포 연도\n문서: 세종대왕은"), std::string::npos) << p;
  // The example's own {query} was filled with the example, not the item's query.
  EXPECT_NE(p.find("답이 없는 문서: 한라산 둘레길은 숲길이다."), std::string::npos) << p;
}

TEST(RunRewrite, BatchedCachedAndMappedToTargets) {
  ksparse::test::TempDir dir;
  std::vector<RewriteItem> items = {
      {"q1", "세종대왕 훈민정음 반포 연도 알아보기", "", "d1"},
      {"q2", "서울 지하철 9호선 급행 정차역 목록", "", "d2"},
      {"q3", "김장 문화 유네스코 무형문화유산 등재", "", ""},
  };
  std::vector<PromptBuilder> builders;
  builders.emplace_back(parse_prompt_template(kParaphrase, "para.toml"),
                        std::vector<FewShotExample>{});
  QueryGenerationOptions o;
  o.model = "fake sha256:0";
  o.per_doc = 2;
  o.batch_size = 4;
  o.show_progress = false;
  FilterOptions fo;
  fo.round_trip_enabled = false;
  GenerationCache cache(dir / "c.sqlite");
  fakes::FakeBackend backend;
  Funnel f1 = make_default_funnel(fo, nullptr);
  const RewriteResult r = run_rewrite(items, builders, backend, cache, f1, o);
  EXPECT_EQ(backend.calls, 2);  // 6 requests in batches of 4
  ASSERT_EQ(r.candidates.size(), 6u);
  ASSERT_EQ(r.item_of.size(), 6u);
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const RewriteItem& it = items[r.item_of[i]];
    EXPECT_EQ(r.candidates[i].candidate.doc_id, it.target_id.empty() ? it.id : it.target_id);
    EXPECT_EQ(r.candidates[i].candidate.doc_text, it.source);
    if (r.candidates[i].candidate.parsed) {
      // The fake builds its answer from words of the source text.
      const std::string first =
          r.candidates[i].candidate.query.substr(0, r.candidates[i].candidate.query.find(' '));
      EXPECT_NE(it.source.find(first), std::string::npos);
    }
  }
  EXPECT_EQ(r.funnel.input, 6u);
  EXPECT_EQ(r.funnel.kept.size() + r.funnel.rejections.size(), 6u);
  const Provenance p = rewrite_provenance(r, 0, builders, o);
  EXPECT_EQ(p.style, "paraphrase");
  EXPECT_EQ(p.model, "fake sha256:0");
  EXPECT_FALSE(p.filters.empty());

  // A rerun reuses every generation and gives the same funnel.
  fakes::FakeBackend again;
  Funnel f2 = make_default_funnel(fo, nullptr);
  const RewriteResult r2 = run_rewrite(items, builders, again, cache, f2, o);
  EXPECT_EQ(again.calls, 0);
  EXPECT_EQ(r2.stats.cached, 6u);
  EXPECT_EQ(r2.funnel.kept, r.funnel.kept);

  items.push_back(items[0]);
  Funnel f3 = make_default_funnel(fo, nullptr);
  EXPECT_THROW(run_rewrite(items, builders, again, cache, f3, o), DataError);
}

}  // namespace
}  // namespace ksparse::synth
