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

// Batched generation is an optimisation of sequential generation, so under greedy sampling the two
// must agree token for token: 16 prompts through 8 slots (continuous refill; max_tokens from 32 to
// 47, so slots finish at different steps and new prompts are decoded alongside other sequences'
// generated tokens) against the same prompts one at a time. This holds because the backend turns
// off ggml's tiled K-quant matmul (GGML_CPU_TILED_MM=0) and, on the CPU, flash attention: both
// summed a row's result in an order that depended on the rows it shared a step with (11 of these
// 16 prompts diverged within 32 tokens with them on).
TEST(LlamaBackend, ParallelGreedyEqualsSequentialTokenForToken) {
  auto reqs = greedy_requests(32);
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].max_tokens = 32 + static_cast<int>((i * 7) % 16);
    reqs[i].ignore_eos = true;  // compare every position, not only up to an early EOS
  }
  LlamaBackend seq(options(1));
  const auto ref = seq.generate(reqs);
  LlamaBackend par(options(8));
  const auto got = par.generate(reqs);
  expect_same_tokens(ref, got, "parallel 8 vs 1");
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(ref[i].generated_tokens, reqs[i].max_tokens) << "prompt " << i;
    // Same logits bit for bit, so the same log-probabilities.
    EXPECT_EQ(ref[i].mean_logprob, got[i].mean_logprob) << "prompt " << i;
    EXPECT_TRUE(std::isfinite(ref[i].mean_logprob));
    EXPECT_LT(ref[i].mean_logprob, 0.0);
  }
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

// Seeds are per request (base seed + index), so a rerun reproduces every sample, and so does
// another parallelism (the logits are the same, see above).
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
  LlamaBackend one(options(1));
  expect_same_tokens(a, one.generate(reqs), "sampled parallel 4 vs 1");
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
