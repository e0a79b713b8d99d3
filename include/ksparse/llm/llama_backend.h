// In-process llama.cpp backend: many prompts through the parallel sequences of one context.
//
// Scheduling: the context has n_parallel sequence slots. Every llama_decode call carries one new
// token for each generating slot plus prompt tokens of newly admitted requests (up to n_batch).
// A slot that finishes takes the next waiting request at once (continuous refill): its KV cells are
// dropped with llama_memory_seq_rm and its sampler chain is rebuilt. Each request has its own
// sampler chain, so results do not depend on which other requests share a batch.
//
// Shared prompt prefixes (few-shot examples, a system prompt) are decoded once: requests of one
// generate() call whose prompts share at least `prefix_min_tokens` leading tokens are grouped,
// each group's common prefix is decoded alone and its KV state saved to host memory
// (llama_state_seq_get_data), and every request of the group starts from a copy of that state
// (llama_state_seq_set_data) instead of decoding the prefix again. Saved prefixes are kept across
// calls (least recently used first out, at most `prefix_cache_mib`). Greedy outputs equal those
// without reuse in the tests; log-probabilities may differ slightly, as they do between batch
// mixes without reuse (some ggml CPU kernels round differently by batch shape).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ksparse/llm/backend.h"
#include "ksparse/llm/chat_format.h"
#include "ksparse/llm/memory_plan.h"
#include "ksparse/llm/model.h"

namespace ksparse::llm {

struct LlamaBackendOptions {
  ModelOptions model;
  ContextOptions context;
  MemoryBudget budget;        // used when model.n_gpu_layers is kGpuLayersAuto, and checked always
  uint32_t base_seed = 1234;  // see kSeedFromIndex
  // How requests with `messages` are rendered and parsed: family (auto = from the GGUF's
  // architecture, then its chat template), qwen3 thinking, gpt-oss reasoning effort.
  ChatFormatOptions chat;
  // Called after each decode step that finished a request, and at least every `progress_every_s`.
  std::function<void(const GenerationProgress&)> on_progress;
  double progress_every_s = 2.0;
  // Shared-prefix reuse (see above): on by default; groups need at least this many common tokens.
  bool reuse_prefix = true;
  int prefix_min_tokens = 64;
  double prefix_cache_mib = 1024.0;  // host memory for saved prefix states
};

class LlamaBackend final : public Backend {
 public:
  // Reads the GGUF layout, plans memory (may throw ModelError with the numbers), loads the model
  // and creates the context.
  explicit LlamaBackend(LlamaBackendOptions options);
  ~LlamaBackend() override;
  LlamaBackend(const LlamaBackend&) = delete;
  LlamaBackend& operator=(const LlamaBackend&) = delete;

  // Not thread-safe: one generate() at a time per backend.
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests) override;
  std::string name() const override { return "llama.cpp"; }

  const Model& model() const;
  const MemoryPlan& plan() const;
  // KV-cache and compute-buffer sizes llama.cpp reported while creating the context, per buffer
  // type (e.g. "CPU"), parsed from its log; empty if its log format changed.
  struct Measured {
    std::string buffer;
    uint64_t kv_bytes = 0;
    uint64_t compute_bytes = 0;
  };
  const std::vector<Measured>& measured() const;
  uint32_t n_ctx_seq() const;  // tokens (prompt + generated) one sequence can hold
  // Where the last generate() call spent its decode loop. A step is one llama_decode call plus
  // sampling and detokenising what it produced; prompt steps are those whose batch held prompt
  // tokens, generation steps carry only the sequences' pending generated tokens (what
  // llama-batched-bench times as "tg", which does not sample).
  struct StepTimings {
    double prompt_seconds = 0.0;
    uint64_t prompt_steps = 0;
    uint64_t prompt_tokens = 0;  // prompt tokens decoded (shared-prefix reuse excluded)
    double generation_seconds = 0.0;
    uint64_t generation_steps = 0;
    uint64_t generation_tokens = 0;  // tokens decoded in generation steps
  };
  const StepTimings& last_timings() const;
  // The chat family used for `messages` requests (options.chat.family, or detected from the GGUF;
  // see detect_chat_family). Throws ConfigError when it cannot be told.
  ChatFamily chat_family() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ksparse::llm
