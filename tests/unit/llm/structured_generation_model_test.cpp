// Constrained and chat generation with the real GGUF (label "model"): JSON-schema outputs always
// parse (acceptance 3 of the LLM runtime), GBNF grammars are obeyed, and chat messages go through
// the Gemma 3 format of the base model (no chat template in the GGUF: family from architecture).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/llm/chat_format.h"
#include "ksparse/llm/json_schema_grammar.h"
#include "ksparse/llm/llama_backend.h"

namespace ksparse::llm {
namespace {

// Three non-empty strings; maxLength keeps every string, and so the whole output, bounded: the
// grammar then ends generation within max_tokens even if the base model would ramble.
const char* kQueriesSchema = R"({
  "type": "object",
  "properties": {
    "queries": {
      "type": "array",
      "minItems": 3,
      "maxItems": 3,
      "items": {"type": "string", "minLength": 1, "maxLength": 16}
    }
  },
  "required": ["queries"]
})";

LlamaBackendOptions options(int parallel) {
  LlamaBackendOptions o;
  o.model.path = test::test_model();
  o.context.n_parallel = parallel;
  o.context.n_ctx = 256 * parallel;
  return o;
}

// 200 distinct short documents: 20 subjects x 10 aspects, Korean and English.
std::vector<std::string> documents() {
  const std::vector<std::string> subjects = {
      "서울의 지하철",       "the Han River",     "김치 발효",         "solar panels",
      "한국 전쟁",           "neural networks",   "제주도 관광",       "the Olympic Games",
      "세종대왕과 한글",     "electric cars",     "부산 국제 영화제",  "coffee roasting",
      "한국의 교육 제도",    "climate change",    "K-pop 산업",        "the Apollo program",
      "조선 왕조",           "search engines",    "온돌 난방",         "vaccines"};
  const std::vector<std::string> aspects = {
      "history", "costs", "how it works", "recent news", "health effects",
      "statistics", "famous people", "future plans", "problems", "comparison with Japan"};
  std::vector<std::string> out;
  for (const auto& s : subjects) {
    for (const auto& a : aspects) out.push_back("Topic: " + s + " (" + a + ").");
  }
  return out;
}

TEST(StructuredGeneration, TwoHundredJsonOutputsAllParseWithThreeNonEmptyStrings) {
  LlamaBackend backend(options(8));
  ASSERT_EQ(backend.chat_family(), ChatFamily::kGemma3);  // base GGUF: no template, by arch
  const auto docs = documents();
  ASSERT_EQ(docs.size(), 200u);
  std::vector<GenerationRequest> reqs;
  for (const auto& d : docs) {
    GenerationRequest r;
    r.messages = {{"system", "You write web search queries. Answer with JSON only."},
                  {"user", d + "\nWrite three different search queries about it as "
                               "{\"queries\": [...]}."}};
    r.json_schema = kQueriesSchema;
    r.max_tokens = 128;
    r.sampling = default_sampling(ChatFamily::kGemma3);
    reqs.push_back(r);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = backend.generate(reqs);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(results.size(), reqs.size());
  int n_ok = 0;
  long n_tokens = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    n_tokens += r.generated_tokens;
    // The grammar, not max_tokens, ended every output.
    EXPECT_EQ(r.finish, FinishReason::kEos) << i << ": " << r.text;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(r.text);
    } catch (const nlohmann::json::parse_error& e) {
      ADD_FAILURE() << i << ": not JSON (" << e.what() << "): " << r.text;
      continue;
    }
    ASSERT_TRUE(j.is_object()) << r.text;
    ASSERT_EQ(j.size(), 1u) << r.text;
    ASSERT_TRUE(j.contains("queries") && j["queries"].is_array()) << r.text;
    ASSERT_EQ(j["queries"].size(), 3u) << r.text;
    bool ok = true;
    for (const auto& q : j["queries"]) {
      ok = ok && q.is_string() && !q.get<std::string>().empty();
    }
    EXPECT_TRUE(ok) << r.text;
    n_ok += ok ? 1 : 0;
    EXPECT_TRUE(std::isfinite(r.mean_logprob) && r.mean_logprob < 0.0) << r.mean_logprob;
  }
  EXPECT_EQ(n_ok, 200);
  std::printf("[ info ] 200 JSON outputs in %.1f s (%ld tokens, %.1f tok/s); first: %s\n", wall,
              n_tokens, static_cast<double>(n_tokens) / wall, results[0].text.c_str());
}

TEST(StructuredGeneration, GrammarIsObeyedWithRawPrompts) {
  LlamaBackend backend(options(4));
  std::vector<GenerationRequest> reqs;
  for (const char* p : {"Is Seoul the capital of Korea? Answer:", "2 + 2 =", "서울은", "The"}) {
    GenerationRequest r;
    r.prompt = p;
    r.grammar = "root ::= (\"yes\" | \"no\") \" because \" [a-z ]{1,12} \".\"";
    r.max_tokens = 40;
    r.sampling.temperature = 0.0f;
    reqs.push_back(r);
  }
  const auto results = backend.generate(reqs);
  for (const auto& r : results) {
    EXPECT_EQ(r.finish, FinishReason::kEos) << r.text;
    const bool starts = r.text.rfind("yes because ", 0) == 0 || r.text.rfind("no because ", 0) == 0;
    EXPECT_TRUE(starts) << r.text;
    EXPECT_EQ(r.text.back(), '.') << r.text;
    EXPECT_LE(r.text.size(), std::string("yes because ").size() + 13) << r.text;
  }
}

TEST(StructuredGeneration, ChatRequestsUseTheGemmaFormatAndStopAtEndOfTurn) {
  LlamaBackend backend(options(2));
  GenerationRequest chat;
  chat.messages = {{"user", "Say hello."}};
  chat.max_tokens = 48;
  chat.sampling.temperature = 0.0f;
  // The same conversation rendered by hand as a raw prompt must give the same tokens.
  GenerationRequest raw = chat;
  raw.messages.clear();
  raw.prompt = render_chat(ChatFamily::kGemma3, chat.messages);
  const auto results = backend.generate({chat});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].text.find("<end_of_turn>"), std::string::npos) << results[0].text;
  EXPECT_EQ(results[0].text.find("<start_of_turn>"), std::string::npos) << results[0].text;
  // The raw prompt is tokenised without special-token parsing, so it is longer: the chat path
  // turned "<start_of_turn>" into its single control token.
  const auto raw_results = backend.generate({raw});
  EXPECT_LT(results[0].prompt_tokens, raw_results[0].prompt_tokens);
}

TEST(StructuredGeneration, InvalidConstraintsAreConfigErrorsBeforeAnyWork) {
  LlamaBackend backend(options(1));
  GenerationRequest r;
  r.prompt = "x";
  r.grammar = "root ::= missing";
  EXPECT_THROW(backend.generate({r}), ConfigError);
  r.grammar.clear();
  r.json_schema = R"({"type": "string", "format": "email"})";
  EXPECT_THROW(backend.generate({r}), ConfigError);
}

}  // namespace
}  // namespace ksparse::llm
