// The LLM interface the rest of ksparse uses: prompts in, completions out. Two implementations:
// the in-process llama.cpp backend (llama_backend.h) and an OpenAI-compatible HTTP backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ksparse::llm {

// Seed sentinel: derive the seed from the backend's base seed and the request's index, so results
// do not depend on batching or on the order in which requests finish.
inline constexpr uint32_t kSeedFromIndex = 0xFFFFFFFFu;

struct SamplingOptions {
  float temperature = 0.8f;     // 0 = greedy (argmax; the other fields except penalties are unused)
  int top_k = 40;               // 0 = off
  float top_p = 0.95f;          // 1 = off
  float min_p = 0.05f;          // 0 = off
  float repeat_penalty = 1.0f;  // multiplicative on logits of recent tokens; 1 = off
  float presence_penalty = 0.0f;  // additive on logits of recent tokens; 0 = off
  int penalty_last_n = 64;        // window of recent tokens the penalties look at; 0 = off
  uint32_t seed = kSeedFromIndex;

  // Throws ConfigError: temperature < 0, top_k < 0, top_p outside (0, 1], min_p outside [0, 1],
  // repeat_penalty <= 0, penalty_last_n < 0.
  void validate() const;
};

// One chat turn. role: "system" | "user" | "assistant".
struct ChatMessage {
  std::string role;
  std::string content;
};

struct GenerationRequest {
  // Either a raw prompt (completion; templating is the caller's business) or chat messages (the
  // backend renders them with the model family's chat format, or sends them to the server's
  // /v1/chat/completions). Exactly one of the two is non-empty.
  std::string prompt;
  std::vector<ChatMessage> messages;
  // Constrained output (at most one): a GBNF grammar with rule "root", or a JSON schema (text)
  // that the in-process backend converts to GBNF with bounded whitespace and the HTTP backend
  // sends as response_format.
  std::string grammar;
  std::string json_schema;
  int max_tokens = 256;           // generated tokens at most (>= 1)
  std::vector<std::string> stop;  // generation ends before the first occurrence of any of these
  SamplingOptions sampling;
  bool add_bos = true;      // prepend BOS when the model wants one
  bool ignore_eos = false;  // keep going past end-of-generation tokens (benchmarks only)

  void validate() const;  // ConfigError for max_tokens < 1, empty stop strings, bad sampling
};

enum class FinishReason {
  kStop,    // a stop string was produced (it is not part of the text)
  kLength,  // max_tokens reached, or the sequence's context is full
  kEos,     // the model produced an end-of-generation token
};
const char* finish_reason_name(FinishReason reason);  // "stop" | "length" | "eos"

struct GenerationResult {
  std::string text;  // completion only (no prompt, no stop string, no EOS); for chat requests
                     // the answer (qwen3 think blocks removed, gpt-oss final channel)
  std::string reasoning;  // chat requests: qwen3 think text / gpt-oss analysis channel ("" else)
  int prompt_tokens = 0;
  int generated_tokens = 0;  // tokens sampled, including a trailing EOS or the stop's tokens
  // Mean over generated tokens of log p(token | prefix) under the model's raw distribution
  // (log-softmax of the logits, before penalties or temperature); 0 when nothing was generated.
  double mean_logprob = 0.0;
  FinishReason finish = FinishReason::kLength;
  std::vector<int32_t> tokens;  // generated token ids (empty for backends that cannot tell)
};

// Progress of one generate() call, reported by both backends' on_progress callbacks.
struct GenerationProgress {
  std::size_t done = 0;           // finished requests (failed ones included)
  std::size_t total = 0;          // all requests of this generate() call
  uint64_t prompt_tokens = 0;     // prompt tokens decoded so far
  uint64_t reused_prompt_tokens = 0;  // prompt tokens restored from a saved shared prefix instead
  uint64_t generated_tokens = 0;  // tokens sampled so far
  double elapsed_s = 0.0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // One result per request, in request order. Throws ConfigError for invalid requests (before any
  // work) and ModelError when the model cannot serve them.
  virtual std::vector<GenerationResult> generate(
      const std::vector<GenerationRequest>& requests) = 0;
  virtual std::string name() const = 0;
};

}  // namespace ksparse::llm
