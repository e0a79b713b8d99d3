#include "ksparse/synonyms/llm_judge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ksparse/core/error.h"

namespace ksparse::synonyms {
namespace {

// Answers from a table keyed by the last line of the prompt; records every call.
class TableBackend : public llm::Backend {
 public:
  std::function<llm::GenerationResult(const llm::GenerationRequest&)> answer;
  std::vector<std::vector<llm::GenerationRequest>> calls;

  std::vector<llm::GenerationResult> generate(
      const std::vector<llm::GenerationRequest>& requests) override {
    calls.push_back(requests);
    std::vector<llm::GenerationResult> out;
    for (const auto& r : requests) out.push_back(answer(r));
    return out;
  }
  std::string name() const override { return "table"; }
};

std::string last_line(const std::string& prompt) {
  const auto nl = prompt.rfind('\n');
  return nl == std::string::npos ? prompt : prompt.substr(nl + 1);
}

llm::GenerationResult token(const std::string& text, double p) {
  llm::GenerationResult r;
  r.text = text;
  r.generated_tokens = 1;
  r.mean_logprob = std::log(p);
  return r;
}

TEST(LlmVerifier, OneBatchedCallWithOneTokenGrammarAndConfidenceFromTheTokenProbability) {
  TableBackend backend;
  const std::map<std::string, llm::GenerationResult> table = {
      {"네트워크, network:", token(" yes", 0.93)},
      {"바나나, bank:", token(" no", 0.7)},
      {"서버, server:", token(" yes", 0.55)},
      {"모델, model:", token(" Maybe", 0.4)},
  };
  backend.answer = [&](const llm::GenerationRequest& r) {
    if (r.max_tokens == 1) return table.at(last_line(r.prompt));
    llm::GenerationResult g;  // reason continuation
    g.text = "loanword";
    g.generated_tokens = 3;
    return g;
  };
  LlmVerifierOptions o;
  o.reason_tokens = 6;
  o.reason_min_confidence = 0.8;
  LlmVerifier v(backend, "gemma", o);
  EXPECT_EQ(v.name(), "llm:gemma");
  const std::vector<CandidatePair> pairs = {
      {"네트워크", "network", Source::kTransliteration, 0.9, ""},
      {"바나나", "bank", Source::kEmbedding, 0.3, ""},
      {"서버", "server", Source::kPattern, 0.5, ""},
      {"모델", "model", Source::kTransliteration, 0.9, ""},
  };
  const auto verdicts = v.verify(pairs);
  ASSERT_EQ(verdicts.size(), 4u);
  // First call: all four judgements at once, each one greedy token under the yes/no grammar.
  ASSERT_EQ(backend.calls.size(), 2u);
  ASSERT_EQ(backend.calls[0].size(), 4u);
  for (const auto& r : backend.calls[0]) {
    EXPECT_EQ(r.max_tokens, 1);
    EXPECT_EQ(r.sampling.temperature, 0.0f);
    EXPECT_EQ(r.grammar, LlmVerifier::answer_grammar());
    EXPECT_NE(r.prompt.find("yes"), std::string::npos);  // few-shot lines
  }
  EXPECT_TRUE(verdicts[0].accepted);
  EXPECT_NEAR(verdicts[0].confidence, 0.93, 1e-9);
  EXPECT_FALSE(verdicts[1].accepted);
  EXPECT_NEAR(verdicts[1].confidence, 0.7, 1e-9);  // P(no)
  EXPECT_TRUE(verdicts[2].accepted);
  EXPECT_NEAR(verdicts[2].confidence, 0.55, 1e-9);
  EXPECT_FALSE(verdicts[3].accepted) << "anything but yes is no";
  EXPECT_NE(verdicts[3].reason.find("other"), std::string::npos);
  // Second call: a reason only for the accepted pair above reason_min_confidence.
  ASSERT_EQ(backend.calls[1].size(), 1u);
  EXPECT_EQ(backend.calls[1][0].max_tokens, 6);
  EXPECT_EQ(last_line(backend.calls[1][0].prompt), "네트워크, network: yes, because");
  EXPECT_EQ(verdicts[0].reason, "P(yes)=0.930; loanword");
  EXPECT_EQ(verdicts[2].reason, "P(yes)=0.550");
  EXPECT_EQ(v.pairs_judged(), 4u);
  EXPECT_EQ(v.generate_calls(), 2u);
}

TEST(LlmVerifier, PromptEndsRightBeforeTheAnswer) {
  const std::string p = LlmVerifier::prompt("데이터", "data");
  EXPECT_EQ(last_line(p), "데이터, data:");
  EXPECT_LT(p.size(), 400u) << "every pair pays for the whole prompt";
  EXPECT_NE(LlmVerifier::answer_grammar().find("root ::="), std::string::npos);
}

TEST(LlmVerifier, EmptyBatchMakesNoCallAndWrongResultCountThrows) {
  TableBackend backend;
  backend.answer = [](const llm::GenerationRequest&) { return token(" yes", 0.9); };
  LlmVerifier v(backend, "m", {.reason_tokens = 0});
  EXPECT_TRUE(v.verify({}).empty());
  EXPECT_TRUE(backend.calls.empty());

  class ShortBackend : public llm::Backend {
   public:
    std::vector<llm::GenerationResult> generate(
        const std::vector<llm::GenerationRequest>&) override {
      return {};
    }
    std::string name() const override { return "short"; }
  } short_backend;
  LlmVerifier bad(short_backend, "m");
  EXPECT_THROW(bad.verify({{"가", "a", Source::kPattern, 0, ""}}), ModelError);
  EXPECT_THROW(LlmVerifier(backend, "m", {.reason_tokens = -1}), ConfigError);
}

TEST(LlmDiscoverer, ParsesJsonAndLenientAnswers) {
  EXPECT_EQ(LlmDiscoverer::parse_answer(R"({"en": ["Election", "vote"]})", 3),
            (std::vector<std::string>{"election", "vote"}));
  // Cut by max_tokens: no closing brace.
  EXPECT_EQ(LlmDiscoverer::parse_answer(R"({"en": ["president", "head of st)", 3),
            (std::vector<std::string>{"president"}));
  // Hangul, digits-only and duplicates dropped; capped at max.
  EXPECT_EQ(LlmDiscoverer::parse_answer(R"({"en": ["선거", "2010", "Vote", "vote", "poll", "x"]})",
                                        2),
            (std::vector<std::string>{"vote", "poll"}));
  EXPECT_TRUE(LlmDiscoverer::parse_answer("no json here", 3).empty());
}

TEST(LlmDiscoverer, AsksAllTermsInOneCallWithTheJsonSchema) {
  TableBackend backend;
  backend.answer = [](const llm::GenerationRequest& r) {
    llm::GenerationResult g;
    g.text = last_line(r.prompt) == "선거: " ? R"({"en": ["election"]})" : "garbage";
    g.generated_tokens = 5;
    return g;
  };
  LlmDiscoverer d(backend);
  const auto c = d.discover({"선거", "대통령실"});
  ASSERT_EQ(backend.calls.size(), 1u);
  ASSERT_EQ(backend.calls[0].size(), 2u);
  for (const auto& r : backend.calls[0]) {
    EXPECT_EQ(r.json_schema, LlmDiscoverer::json_schema());
    EXPECT_EQ(r.sampling.temperature, 0.0f);
  }
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].ko, "선거");
  EXPECT_EQ(c[0].en, "election");
  EXPECT_EQ(c[0].source, Source::kDiscovery);
  EXPECT_TRUE(d.discover({}).empty());
  EXPECT_EQ(backend.calls.size(), 1u);
}

}  // namespace
}  // namespace ksparse::synonyms
