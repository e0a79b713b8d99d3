// The synonym LLM judge on the real small GGUF through the in-process backend (label "model").
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/synonyms/llm_judge.h"
#include "ksparse/synonyms/terms.h"
#include "ksparse/synth/caching_backend.h"

namespace ksparse::synonyms {
namespace {

// Forwards to the real backend and records the size of every generate() call.
class CountingBackend : public llm::Backend {
 public:
  explicit CountingBackend(llm::Backend& inner) : inner_(inner) {}
  std::vector<llm::GenerationResult> generate(
      const std::vector<llm::GenerationRequest>& requests) override {
    sizes.push_back(requests.size());
    return inner_.generate(requests);
  }
  std::string name() const override { return inner_.name(); }
  std::vector<std::size_t> sizes;

 private:
  llm::Backend& inner_;
};

// One backend for the suite, destroyed by a test environment before main() returns. (A
// function-local static LlamaBackend was destroyed during static destruction, after state that
// llama.cpp/ggml had created lazily during generation: glibc aborted with "free(): corrupted
// unsorted chunks" in llama_free at exit, although every test passed.)
std::unique_ptr<llm::LlamaBackend>& backend_slot() {
  static std::unique_ptr<llm::LlamaBackend> b;
  return b;
}

class BackendEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { backend_slot().reset(); }
};
const auto* const kBackendEnvironment = ::testing::AddGlobalTestEnvironment(new BackendEnvironment);

llm::LlamaBackend& backend() {
  auto& b = backend_slot();
  if (!b) {
    llm::LlamaBackendOptions o;
    o.model.path = test::test_model();
    o.context.n_parallel = 4;
    o.context.n_ctx = 4 * 256;
    b = std::make_unique<llm::LlamaBackend>(o);
  }
  return *b;
}

const std::vector<CandidatePair>& pairs() {
  static const std::vector<CandidatePair> p = {
      {"네트워크", "network", Source::kTransliteration, 0.9, ""},
      {"대통령", "president", Source::kPattern, 0.5, ""},
      {"바나나", "election", Source::kEmbedding, 0.2, ""},
      {"서버", "silver", Source::kTransliteration, 0.7, ""},
      {"선거", "election", Source::kEmbedding, 0.4, ""},
  };
  return p;
}

TEST(LlmJudgeModel, VerifiesABatchInOneCallWithAnswerProbabilities) {
  CountingBackend counting(backend());
  LlmVerifier v(counting, "gemma-3-270m", {.reason_tokens = 6, .reason_min_confidence = 0.0});
  const auto verdicts = v.verify(pairs());
  ASSERT_EQ(verdicts.size(), pairs().size());
  ASSERT_GE(counting.sizes.size(), 1u);
  EXPECT_EQ(counting.sizes[0], pairs().size()) << "all judgements in one batched call";
  std::size_t yes = 0;
  for (const Verdict& d : verdicts) {
    EXPECT_GT(d.confidence, 0.0);
    EXPECT_LE(d.confidence, 1.0);
    // The few-shot format makes the greedy token " yes" or " no" (the grammar enforces it where
    // the backend supports grammars).
    const bool known = d.reason.rfind("P(yes)=", 0) == 0 || d.reason.rfind("P(no)=", 0) == 0;
    EXPECT_TRUE(known) << d.reason;
    if (d.accepted) ++yes;
  }
  // A reason generation ran exactly for the accepted pairs (reason_min_confidence 0).
  EXPECT_EQ(counting.sizes.size(), yes > 0 ? 2u : 1u);
  if (yes > 0) {
    EXPECT_EQ(counting.sizes[1], yes);
  }
}

TEST(LlmJudgeModel, BatchedVerdictsMatchOneAtATime) {
  LlmVerifier v(backend(), "gemma-3-270m", {.reason_tokens = 0});
  const auto batched = v.verify(pairs());
  for (std::size_t i = 0; i < pairs().size(); ++i) {
    const auto single = v.verify({pairs()[i]});
    ASSERT_EQ(single.size(), 1u);
    EXPECT_EQ(single[0].accepted, batched[i].accepted) << pairs()[i].ko << " " << pairs()[i].en;
    EXPECT_NEAR(single[0].confidence, batched[i].confidence, 0.05) << pairs()[i].ko;
  }
}

// The synonyms stage verifies through a CachingBackend over a file in its work dir: a rerun after
// a kill is served from the file for every generate() call that returned.
TEST(LlmJudgeModel, VerdictsThroughTheGenerationCacheAreReusedByARerun) {
  test::TempDir dir;
  const LlmVerifierOptions vo{.reason_tokens = 3, .reason_min_confidence = 0.0};
  CountingBackend counting(backend());
  std::vector<Verdict> first;
  {
    synth::GenerationCache cache(dir / "verify.sqlite");
    synth::CachingBackend cached(counting, cache, "gemma-3-270m test");
    first = LlmVerifier(cached, "gemma-3-270m", vo).verify(pairs());
    EXPECT_EQ(cached.hits(), 0u);
    EXPECT_GE(cached.misses(), pairs().size());
  }
  const std::size_t calls = counting.sizes.size();
  ASSERT_GE(calls, 1u);
  // A new process: the same file, nothing sent to the model, the same verdicts.
  synth::GenerationCache cache(dir / "verify.sqlite");
  synth::CachingBackend cached(counting, cache, "gemma-3-270m test");
  const auto again = LlmVerifier(cached, "gemma-3-270m", vo).verify(pairs());
  EXPECT_EQ(counting.sizes.size(), calls) << "a rerun must not call the model";
  ASSERT_EQ(again.size(), first.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(again[i].accepted, first[i].accepted) << pairs()[i].ko;
    EXPECT_DOUBLE_EQ(again[i].confidence, first[i].confidence) << pairs()[i].ko;
    EXPECT_EQ(again[i].reason, first[i].reason) << pairs()[i].ko;
  }
  // One new pair among cached ones: only it reaches the model (plus its reason if accepted).
  std::vector<CandidatePair> more = pairs();
  more.push_back({"컴퓨터", "computer", Source::kTransliteration, 0.9, ""});
  const auto mixed = LlmVerifier(cached, "gemma-3-270m", vo).verify(more);
  ASSERT_EQ(mixed.size(), more.size());
  ASSERT_GT(counting.sizes.size(), calls);
  EXPECT_EQ(counting.sizes[calls], 1u);
  // Another model identity shares nothing.
  synth::CachingBackend other(counting, cache, "another model");
  LlmVerifier(other, "x", vo).verify({pairs()[0]});
  EXPECT_EQ(other.hits(), 0u);
}

TEST(LlmJudgeModel, DiscoveryProposesEnglishTerms) {
  CountingBackend counting(backend());
  LlmDiscoverer d(counting, {.max_per_term = 2, .max_tokens = 16});
  const std::vector<std::string> terms = {"대통령", "자동차", "음악"};
  const auto c = d.discover(terms);
  ASSERT_EQ(counting.sizes.size(), 1u);
  EXPECT_EQ(counting.sizes[0], terms.size());
  EXPECT_FALSE(c.empty()) << "the JSON few-shot format should yield at least one proposal";
  std::map<std::string, std::size_t> per_term;
  for (const auto& p : c) {
    EXPECT_EQ(p.source, Source::kDiscovery);
    EXPECT_FALSE(has_hangul(p.en)) << p.en;
    EXPECT_TRUE(has_latin(p.en)) << p.en;
    ++per_term[p.ko];
  }
  for (const auto& [ko, n] : per_term) EXPECT_LE(n, 2u) << ko;
}

}  // namespace
}  // namespace ksparse::synonyms
