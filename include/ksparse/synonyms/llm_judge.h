// The LLM stages of the synonym pipeline, over any llm::Backend (in-process llama.cpp or HTTP):
//
//  - LlmVerifier (a CandidateVerifier): one yes/no judgement per pair, all pairs of a verify()
//    call sent in ONE Backend::generate call (the backend batches them over its parallel
//    sequences). The prompt is a short few-shot completion (works with base models) that ends
//    where the next token is the answer; the request asks for one greedy token constrained by the
//    grammar `root ::= " yes" | " no"` (the leading space is how the few-shot lines write it).
//    confidence = exp(log p(answer token)) under the raw distribution (GenerationResult::
//    mean_logprob of the single token): P(yes) when the answer is yes, P(no) when it is no.
//    A backend that ignores grammars may return another token: anything but yes counts as no.
//    Optionally, accepted pairs get a reason: a second batched generation continues the answer
//    line with " yes, because" for a few tokens (greedy; a base model's reason is weak evidence,
//    kept as a note only).
//  - LlmDiscoverer: for Korean terms without an entry, asks for English equivalents with a
//    JSON-constrained completion ({"en": ["…", …]}, GenerationRequest::json_schema) and returns
//    them as candidates (Source::kDiscovery) for the verifier.
//
// The few-shot examples are fixed, hand-written pairs (not taken from any gold list).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ksparse/llm/backend.h"
#include "ksparse/synonyms/candidate.h"

namespace ksparse::synonyms {

struct LlmVerifierOptions {
  // Tokens of the reason generated for accepted pairs (a second, batched generation); 0: no
  // generation, the reason is "P(yes)=…" only.
  int reason_tokens = 8;
  // A pair is "accepted" by the verdict when the answer is yes; the build's verify_threshold then
  // applies to the confidence. reason generation runs only for pairs with confidence >= this.
  double reason_min_confidence = 0.5;
  void validate() const;  // throws ConfigError
};

class LlmVerifier final : public CandidateVerifier {
 public:
  // `backend` must outlive the verifier. `model_name` names it in manifests.
  LlmVerifier(llm::Backend& backend, std::string model_name, LlmVerifierOptions options = {});
  std::vector<Verdict> verify(const std::vector<CandidatePair>& pairs) override;
  std::string name() const override;

  // The prompt for one pair (ends right before the answer token).
  static std::string prompt(const std::string& ko, const std::string& en);
  // The GBNF grammar of the answer.
  static const std::string& answer_grammar();

  std::size_t generate_calls() const { return generate_calls_; }
  std::size_t pairs_judged() const { return pairs_judged_; }
  double seconds() const { return seconds_; }  // wall time inside Backend::generate

 private:
  llm::Backend& backend_;
  std::string model_name_;
  LlmVerifierOptions options_;
  std::size_t generate_calls_ = 0;
  std::size_t pairs_judged_ = 0;
  double seconds_ = 0.0;
};

struct LlmDiscoveryOptions {
  std::size_t max_per_term = 3;  // English equivalents kept per Korean term
  int max_tokens = 24;           // generated tokens per term
  void validate() const;         // throws ConfigError
};

class LlmDiscoverer {
 public:
  explicit LlmDiscoverer(llm::Backend& backend, LlmDiscoveryOptions options = {});
  // Candidates (Source::kDiscovery, score 0, context = the raw completion) for the terms, all
  // asked in one Backend::generate call. Answers that are not valid JSON are parsed leniently
  // (quoted strings after "en"); English strings must contain a Latin letter and no Hangul.
  std::vector<CandidatePair> discover(const std::vector<std::string>& ko_terms);

  static std::string prompt(const std::string& ko);
  static const std::string& json_schema();
  // Parses one completion (the text after the prompt) into English terms (normalize_en, at most
  // `max` distinct). Exposed for tests.
  static std::vector<std::string> parse_answer(const std::string& completion, std::size_t max);

  double seconds() const { return seconds_; }

 private:
  llm::Backend& backend_;
  LlmDiscoveryOptions options_;
  double seconds_ = 0.0;
};

}  // namespace ksparse::synonyms
