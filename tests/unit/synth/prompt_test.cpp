#include "ksparse/synth/prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"

namespace ksparse::synth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char* kTemplate = R"toml(
name = "t"
style = "keyword"
language = "ko"
num_examples = 2
stop = ["\n"]
response_prefix = '{"query": "'
example = '''문서: {passage}
검색어: {"query": "{query}"}'''
prompt = '''검색어 {n}개를 만드세요.

{examples}

문서: {document}
검색어: '''

[[examples]]
passage = "기본 예시 문서 하나"
query = "기본 검색어 하나"

[[examples]]
passage = "기본 예시 문서 둘"
query = "기본 \"인용\" 검색어"
)toml";

TEST(PromptTemplate, ParsesAndHashesTheText) {
  const PromptTemplate t = parse_prompt_template(kTemplate, "t.toml");
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.language, QueryLanguage::kKorean);
  EXPECT_EQ(t.num_examples, 2u);
  ASSERT_EQ(t.examples.size(), 2u);
  EXPECT_EQ(t.hash, sha256_hex(kTemplate));
  EXPECT_EQ(t.stop, (std::vector<std::string>{"\n"}));
}

TEST(PromptTemplate, RejectsMissingPlaceholdersAndUnknownKeys) {
  std::string no_doc = kTemplate;
  no_doc.replace(no_doc.find("{document}"), 10, "문서");
  EXPECT_THROW(parse_prompt_template(no_doc, "t.toml"), ConfigError);
  try {
    parse_prompt_template("temperature = 0.7\n" + std::string(kTemplate), "t.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("temperature"));
  }
  const std::string no_root = "grammar = 'query ::= [a-z]+'\n" + std::string(kTemplate);
  try {
    parse_prompt_template(no_root, "t.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("root ::="));
  }
  const std::string with_root =
      "grammar = '''\nq ::= [a-z]+\n  root ::= q\n'''\n" + std::string(kTemplate);
  EXPECT_EQ(parse_prompt_template(with_root, "t.toml").grammar, "q ::= [a-z]+\n  root ::= q\n");
  EXPECT_TRUE(parse_prompt_template(kTemplate, "t.toml").grammar.empty());
  std::string too_many = kTemplate;
  too_many.replace(too_many.find("num_examples = 2"), 16, "num_examples = 3");
  EXPECT_THROW(parse_prompt_template(too_many, "t.toml"), ConfigError);
}

TEST(PromptTemplate, DefaultTemplatesLoad) {
  const std::filesystem::path dir = std::filesystem::path(KSPARSE_SOURCE_DIR) / "configs/prompts";
  std::set<QueryLanguage> languages;
  for (const char* name : {"ko_keyword", "ko_question", "en_keyword", "ko_en_mixed"}) {
    const PromptTemplate t = load_prompt_template(dir / (std::string(name) + ".toml"));
    EXPECT_EQ(t.name, name);
    EXPECT_GE(t.examples.size(), 3u);
    EXPECT_LE(t.num_examples, 8u);
    EXPECT_EQ(t.hash, sha256_file(dir / (std::string(name) + ".toml")));
    languages.insert(t.language);
    // The JSON templates constrain the rest of the object after their response prefix.
    EXPECT_THAT(t.grammar, HasSubstr("root ::= char+ \"\\\"}\"")) << name;
    // The template's own examples parse as the model's output should.
    for (const FewShotExample& e : t.examples) {
      const std::string shown = fill_placeholders(t.example, {{"passage", ""}, {"query", e.query}});
      const std::string after =
          shown.substr(shown.find(t.response_prefix) + t.response_prefix.size());
      const ParsedOutput p = parse_generation(t, after, 1);
      ASSERT_TRUE(p.ok) << name << ": " << p.error;
      EXPECT_EQ(p.queries[0], e.query);
    }
  }
  EXPECT_EQ(languages.size(), 3u);
  EXPECT_THROW(load_prompt_template(dir / "missing.toml"), IoError);
}

TEST(FillPlaceholders, OnePassLeavesOtherBraces) {
  EXPECT_EQ(fill_placeholders(R"({"a": {n}} {document})", {{"n", "3"}, {"document", "{n}"}}),
            R"({"a": 3} {n})");
  EXPECT_EQ(fill_placeholders("{unknown} {n", {{"n", "3"}}), "{unknown} {n");
}

TEST(TruncateChars, CountsCodePointsAndKeepsWords) {
  EXPECT_EQ(truncate_chars("가나다라마", 3), "가나다");
  EXPECT_EQ(truncate_chars("가나다", 0), "가나다");
  EXPECT_EQ(truncate_chars("가나다", 5), "가나다");
  EXPECT_EQ(truncate_chars("훈민정음 창제 반포 연도", 12), "훈민정음 창제 반포");
}

Document doc(std::string id, std::string text) { return {std::move(id), "", std::move(text), {}}; }

TEST(PromptBuilder, UsesTemplateExamplesWithoutRealOnes) {
  const PromptBuilder b(parse_prompt_template(kTemplate, "t.toml"), {});
  const std::string p = b.build(doc("d1", "세종대왕은 훈민정음을 만들었다."), 0);
  EXPECT_EQ(
      p,
      "검색어 1개를 만드세요.\n\n문서: 기본 예시 문서 하나\n검색어: {\"query\": \"기본 검색어 "
      "하나\"}\n\n문서: 기본 예시 문서 둘\n검색어: {\"query\": \"기본 \\\"인용\\\" "
      "검색어\"}\n\n문서: 세종대왕은 훈민정음을 만들었다.\n검색어: {\"query\": \"");
}

TEST(PromptBuilder, DrawsRealExamplesSeededAndNeverFromTheSameDocument) {
  std::vector<FewShotExample> pool;
  for (int i = 0; i < 10; ++i) {
    pool.push_back(
        {"문서 " + std::to_string(i), "질문 " + std::to_string(i), "d" + std::to_string(i)});
  }
  PromptBuilderOptions o;
  o.seed = 42;
  o.example_sets = 0;  // a fresh draw per prompt
  const PromptBuilder b(parse_prompt_template(kTemplate, "t.toml"), pool, o);
  const PromptBuilder same(parse_prompt_template(kTemplate, "t.toml"), pool, o);
  o.seed = 43;
  const PromptBuilder other(parse_prompt_template(kTemplate, "t.toml"), pool, o);
  std::set<std::string> seen;
  bool differs = false;
  for (std::size_t item = 0; item < 20; ++item) {
    const auto ex = b.draw_examples("d3", item);
    ASSERT_EQ(ex.size(), 2u);
    EXPECT_NE(ex[0].doc_id, ex[1].doc_id);
    for (const auto& e : ex) {
      EXPECT_NE(e.doc_id, "d3");
      seen.insert(e.doc_id);
    }
    EXPECT_EQ(b.build(doc("d3", "본문"), item), same.build(doc("d3", "본문"), item));
    differs |= b.build(doc("d3", "본문"), item) != other.build(doc("d3", "본문"), item);
  }
  EXPECT_GE(seen.size(), 6u);  // the draws vary across items
  EXPECT_TRUE(differs);
  EXPECT_NE(b.fingerprint(), other.fingerprint());
  EXPECT_EQ(b.fingerprint(), same.fingerprint());
}

TEST(FewShotPool, FromRealTriples) {
  const Document d1 = doc("d1", "세종대왕 문서");
  std::vector<Triple> real = {
      {"훈민정음 반포", "q1", "d1", {}, TripleSource::kReal, std::nullopt},
      {"훈민정음 반포", "q2", "d1", {}, TripleSource::kReal, std::nullopt},  // same text: once
      {"없는 문서", "q3", "dx", {}, TripleSource::kReal, std::nullopt}};
  const auto pool =
      few_shot_pool(real, [&](const std::string& id) { return id == "d1" ? &d1 : nullptr; });
  ASSERT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool[0].passage, "세종대왕 문서");
  EXPECT_EQ(pool[0].doc_id, "d1");
}

TEST(ParseGeneration, JsonOutputs) {
  const PromptTemplate t = parse_prompt_template(kTemplate, "t.toml");
  auto p = parse_generation(t, "훈민정음 반포 연도\"}", 1);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.queries, (std::vector<std::string>{"훈민정음 반포 연도"}));
  p = parse_generation(t, "  9호선 급행 \"} 그리고 잡담 {\"query\": \"x\"}", 1);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.queries[0], "9호선 급행");
  p = parse_generation(t, "훈민정음 반포 연도", 1);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, "unterminated JSON object in the output");
  p = parse_generation(t, "a\", \"query\": }", 1);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, "the JSON object in the output does not parse");
  p = parse_generation(t, "  \"}", 1);
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, "the JSON object holds only empty queries");
  PromptTemplate multi = t;
  multi.response_prefix = "";
  p = parse_generation(multi, R"({"queries": ["가 나 다", "라 마 바", "사 아 자"]})", 2);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.queries.size(), 2u);
  p = parse_generation(multi, R"({"answer": "가"})", 1);
  EXPECT_FALSE(p.ok);
  EXPECT_THAT(p.error, HasSubstr("no string \"query\""));
  p = parse_generation(multi, "그냥 문장", 1);
  EXPECT_EQ(p.error, "no JSON object in the output");
}

TEST(ParseGeneration, LineOutput) {
  PromptTemplate t = parse_prompt_template(kTemplate, "t.toml");
  t.output = OutputFormat::kLine;
  auto p = parse_generation(t, "\n  훈민정음 반포 연도 \n다음 줄", 1);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.queries[0], "훈민정음 반포 연도");
  EXPECT_FALSE(parse_generation(t, " \n\n", 1).ok);
}

}  // namespace
// Fixed example sets: every prompt uses one of N sets (so prompts share their few-shot prefix),
// the choice is seeded per (doc, item), a set holding the prompted document is skipped, and the
// number of sets is part of the fingerprint.
TEST(PromptBuilder, FixedExampleSetsAreSharedAndSkipTheDocumentItself) {
  std::vector<FewShotExample> pool;
  for (int i = 0; i < 10; ++i) {
    pool.push_back(
        {"문서 " + std::to_string(i), "질문 " + std::to_string(i), std::string("d").append(std::to_string(i))});
  }
  PromptBuilderOptions o;
  o.seed = 7;
  o.example_sets = 3;
  const PromptBuilder b(parse_prompt_template(kTemplate, "t.toml"), pool, o);
  std::set<std::vector<std::string>> sets;
  for (int d = 0; d < 10; ++d) {
    std::string id = "d";  // (not "d" + to_string: GCC 12's -Wrestrict false positive)
    id += std::to_string(d);
    for (std::size_t item = 0; item < 4; ++item) {
      const auto ex = b.draw_examples(id, item);
      ASSERT_EQ(ex.size(), 2u);
      std::vector<std::string> ids;
      for (const auto& e : ex) {
        EXPECT_NE(e.doc_id, id) << "example drawn from the prompted document";
        ids.push_back(e.doc_id);
      }
      sets.insert(ids);
    }
  }
  // 40 prompts share at most 3 example sets (plus fresh draws only if every set held the doc).
  EXPECT_LE(sets.size(), 3u);
  EXPECT_GE(sets.size(), 2u);
  o.example_sets = 0;
  const PromptBuilder fresh(parse_prompt_template(kTemplate, "t.toml"), pool, o);
  EXPECT_NE(b.fingerprint(), fresh.fingerprint());
  o.example_sets = 2000;
  EXPECT_THROW(PromptBuilder(parse_prompt_template(kTemplate, "t.toml"), pool, o), ConfigError);
}

}  // namespace ksparse::synth
