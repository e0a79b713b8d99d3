// Batched generation with the real GGUF (label "model").
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/llm/llama_backend.h"

namespace ksparse::llm {
namespace {

// 16 prompts of very different lengths (4 to ~120 tokens), English and Korean.
std::vector<std::string> prompts() {
  return {
      "The capital of France is",
      "Question: What is the boiling point of water at sea level?\nAnswer:",
      "서울은 대한민국의",
      "Once upon a time",
      "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
      "Neural sparse retrieval represents documents as weighted bags of vocabulary terms, which "
      "lets an inverted index serve them. The main advantage over dense retrieval is",
      "1, 2, 3, 4, 5,",
      "한국어 자연어 처리에서 형태소 분석은 중요한 단계이다. 그 이유는",
      "Translate to Korean: 'The weather is nice today.'\nKorean:",
      "A",
      "The following is a list of the planets of the solar system in order from the sun: Mercury,",
      "Document: The KorQuAD dataset is a large-scale Korean question answering dataset built from "
      "Korean Wikipedia articles, with more than 70,000 question-answer pairs written by crowd "
      "workers. It follows the format of SQuAD and is widely used to evaluate machine reading "
      "comprehension models for Korean. Researchers have used it to fine-tune multilingual BERT, "
      "KoBERT and other encoders.\nQuery:",
      "In 1969, Apollo 11",
      "Ingredients: flour, sugar, eggs, butter.\nSteps:\n1.",
      "검색 엔진은",
      "The three laws of thermodynamics state that",
  };
}

LlamaBackendOptions options(int parallel, bool unified = false) {
  LlamaBackendOptions o;
  o.model.path = test::test_model();
  o.context.n_parallel = parallel;
  o.context.n_ctx = 512 * parallel;
  o.context.kv_unified = unified;
  return o;
}

std::vector<GenerationRequest> greedy_requests(int max_tokens) {
  std::vector<GenerationRequest> reqs;
  for (const auto& p : prompts()) {
    GenerationRequest r;
    r.prompt = p;
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0.0f;
    reqs.push_back(r);
  }
  return reqs;
}

void expect_same_tokens(const std::vector<GenerationResult>& a,
                        const std::vector<GenerationResult>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  int identical = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt_tokens, b[i].prompt_tokens) << what << " prompt " << i;
    EXPECT_EQ(a[i].tokens, b[i].tokens)
        << what << " prompt " << i << ": '" << a[i].text << "' vs '" << b[i].text << "'";
    EXPECT_EQ(a[i].text, b[i].text) << what << " prompt " << i;
    EXPECT_EQ(a[i].finish, b[i].finish) << what << " prompt " << i;
    identical += a[i].tokens == b[i].tokens ? 1 : 0;
  }
  std::printf("%s: %d of %zu prompts token-identical\n", what.c_str(), identical, a.size());
}

// Batched and sequential greedy decoding agree on the first token of every prompt, but are NOT
// token-identical over 24 tokens on this CPU build (5 of 16 prompts were; the others diverge after
// 3 to 20 tokens at near-ties): llama.cpp's CPU kernels give last-bit differences when a token's
// row shares the matmuls with other sequences' rows. What is exact is a rerun with the same batch
// composition, asserted below.
TEST(LlamaBackend, ParallelGreedyAgreesWithSequentialOnFirstTokens) {
  const auto reqs = greedy_requests(6);
  LlamaBackend seq(options(1));
  const auto ref = seq.generate(reqs);
  LlamaBackend par(options(8));
  const auto got = par.generate(reqs);
  ASSERT_EQ(ref.size(), got.size());
  int identical = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(ref[i].prompt_tokens, got[i].prompt_tokens);
    ASSERT_FALSE(ref[i].tokens.empty());
    ASSERT_FALSE(got[i].tokens.empty());
    EXPECT_EQ(ref[i].tokens[0], got[i].tokens[0]) << "prompt " << i;
    EXPECT_TRUE(std::isfinite(ref[i].mean_logprob));
    EXPECT_LE(ref[i].mean_logprob, 0.0);
    identical += ref[i].tokens == got[i].tokens ? 1 : 0;
  }
  std::printf("parallel 8 vs 1: %d of %zu prompts token-identical over 6 tokens\n", identical,
              ref.size());
}

TEST(LlamaBackend, RerunWithTheSameBatchesIsBitIdentical) {
  const auto reqs = greedy_requests(12);
  LlamaBackend par(options(8));
  const auto a = par.generate(reqs);
  const auto b = par.generate(reqs);
  expect_same_tokens(a, b, "parallel 8 rerun");
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].mean_logprob, b[i].mean_logprob);
}

TEST(LlamaBackend, PromptTokensMatchTheTokenizer) {
  LlamaBackend b(options(4));
  auto reqs = greedy_requests(2);
  reqs.resize(5);
  const auto res = b.generate(reqs);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(res[i].prompt_tokens), b.model().tokenize(reqs[i].prompt).size());
    EXPECT_LE(res[i].generated_tokens, 2);
  }
}

TEST(LlamaBackend, MaxTokensAndStopStrings) {
  LlamaBackend b(options(2));
  GenerationRequest r;
  r.prompt = "1, 2, 3, 4, 5,";
  r.sampling.temperature = 0.0f;
  r.max_tokens = 5;
  auto res = b.generate({r});
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].finish, FinishReason::kLength);
  EXPECT_EQ(res[0].generated_tokens, 5);
  ASSERT_FALSE(res[0].text.empty());
  // Stop at a string the unconstrained continuation contains: the text ends right before it.
  const std::string full = res[0].text;
  const size_t comma = full.find(',', 1);
  ASSERT_NE(comma, std::string::npos) << full;
  r.stop = {","};
  r.max_tokens = 20;
  res = b.generate({r});
  EXPECT_EQ(res[0].finish, FinishReason::kStop);
  EXPECT_EQ(res[0].text, full.substr(0, full.find(',')));
  EXPECT_EQ(res[0].text.find(','), std::string::npos);
}

// Seeds are per request (base seed + index), so a rerun reproduces every sample. Across different
// parallelism the samples match only as far as the logits do (see above).
TEST(LlamaBackend, SeededSamplingIsReproducible) {
  std::vector<GenerationRequest> reqs;
  for (const auto& p : prompts()) {
    GenerationRequest r;
    r.prompt = p;
    r.max_tokens = 10;
    r.sampling.temperature = 0.9f;
    reqs.push_back(r);
  }
  reqs.resize(6);
  LlamaBackend four(options(4));
  const auto a = four.generate(reqs);
  const auto b = four.generate(reqs);
  expect_same_tokens(a, b, "sampled parallel 4 rerun");
  // Another base seed gives another sample somewhere.
  auto o = options(4);
  o.base_seed = 99;
  LlamaBackend other(o);
  const auto c = other.generate(reqs);
  bool any_diff = false;
  for (size_t i = 0; i < a.size(); ++i) any_diff |= a[i].tokens != c[i].tokens;
  EXPECT_TRUE(any_diff);
}

TEST(LlamaBackend, MoreRequestsThanSlotsAreRefilled) {
  auto o = options(3);
  std::vector<GenerationProgress> seen;
  o.on_progress = [&](const GenerationProgress& p) { seen.push_back(p); };
  LlamaBackend b(o);
  const auto reqs = greedy_requests(6);
  const auto res = b.generate(reqs);
  ASSERT_EQ(res.size(), reqs.size());
  for (const auto& r : res) EXPECT_GT(r.generated_tokens, 0);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, reqs.size());
  EXPECT_EQ(seen.back().total, reqs.size());
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].done, seen[i - 1].done);
  uint64_t gen = 0;
  for (const auto& r : res) gen += static_cast<uint64_t>(r.generated_tokens);
  EXPECT_EQ(seen.back().generated_tokens, gen);
}

TEST(LlamaBackend, TooLongPromptIsADataError) {
  auto o = options(1);
  o.context.n_ctx = 256;
  LlamaBackend b(o);
  GenerationRequest r;
  for (int i = 0; i < 200; ++i) r.prompt += "many words here ";
  EXPECT_THROW(b.generate({r}), DataError);
}

TEST(LlamaBackend, PlannedKvEqualsWhatLlamaCppAllocates) {
  for (int parallel : {1, 8}) {
    for (bool unified : {false, true}) {
      auto o = options(parallel, unified);
      o.context.n_ctx = 4096;
      LlamaBackend b(o);
      uint64_t measured_kv = 0;
      uint64_t measured_compute = 0;
      for (const auto& m : b.measured()) {
        measured_kv += m.kv_bytes;
        measured_compute += m.compute_bytes;
      }
      ASSERT_GT(measured_kv, 0u) << "no 'KV buffer size' line in llama.cpp's log";
      uint64_t planned_kv = 0;
      uint64_t planned_compute = 0;
      for (const auto& d : b.plan().devices) {
        planned_kv += d.kv_bytes;
        planned_compute += d.compute_bytes;
      }
      // llama.cpp prints MiB with two decimals: allow that rounding.
      EXPECT_NEAR(static_cast<double>(planned_kv), static_cast<double>(measured_kv), 0.01 * 1048576)
          << "parallel " << parallel << " unified " << unified;
      // The compute estimate is an upper bound, and not a wild one.
      EXPECT_GE(planned_compute, measured_compute) << "parallel " << parallel;
      EXPECT_LE(planned_compute, 2 * measured_compute) << "parallel " << parallel;
      std::printf(
          "parallel %d unified %d: KV planned %.2f MiB measured %.2f MiB; compute planned "
          "%.2f MiB measured %.2f MiB\n",
          parallel, unified, planned_kv / 1048576.0, measured_kv / 1048576.0,
          planned_compute / 1048576.0, measured_compute / 1048576.0);
    }
  }
}

}  // namespace
}  // namespace ksparse::llm
