// An llm::Backend that answers from a GenerationCache and sends only the misses to the backend it
// wraps, storing their results after each generate() call (one transaction). A stage that runs its
// generations through it resumes after a kill: the requests of every call that returned are
// served from the file.
//
// Key of a request: the wrapped model's identity, sha256 of (prompt or chat messages, grammar,
// JSON schema), and the generation parameters (max_tokens, stop strings, sampling, add_bos,
// ignore_eos) as canonical JSON. A cached result carries text, token counts, mean log-probability
// and finish reason; `reasoning` and `tokens` are not stored (empty on a hit).
//
// Requests whose seed is llm::kSeedFromIndex and whose temperature is > 0 sample with a seed that
// depends on their position in the call, so a call holding any of them is passed through whole
// and uncached.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ksparse/llm/backend.h"
#include "ksparse/synth/cache.h"

namespace ksparse::synth {

class CachingBackend final : public llm::Backend {
 public:
  // `inner` and `cache` must outlive this object. `model_id` names the model in cache keys
  // (e.g. "<file> sha256:<hash>").
  CachingBackend(llm::Backend& inner, GenerationCache& cache, std::string model_id);

  std::vector<llm::GenerationResult> generate(
      const std::vector<llm::GenerationRequest>& requests) override;
  std::string name() const override { return inner_.name(); }

  std::size_t hits() const { return hits_; }
  std::size_t misses() const { return misses_; }

  // The cache key of one request (exposed for tests).
  CacheKey key(const llm::GenerationRequest& request) const;

 private:
  llm::Backend& inner_;
  GenerationCache& cache_;
  std::string model_id_;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

// FinishReason <-> the cache's `finish` column ("stop" | "length" | "eos"; anything else reads as
// length). synth has its own table: llm::finish_reason_name lives in the llm library, which synth
// does not link.
const char* finish_name(llm::FinishReason reason);
llm::FinishReason finish_from_name(const std::string& name);

}  // namespace ksparse::synth
