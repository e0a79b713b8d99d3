#include "ksparse/synth/caching_backend.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"

namespace ksparse::synth {
using nlohmann::json;

const char* finish_name(llm::FinishReason reason) {
  switch (reason) {
    case llm::FinishReason::kStop:
      return "stop";
    case llm::FinishReason::kLength:
      return "length";
    case llm::FinishReason::kEos:
      return "eos";
  }
  return "?";
}

llm::FinishReason finish_from_name(const std::string& name) {
  if (name == "stop") return llm::FinishReason::kStop;
  if (name == "eos") return llm::FinishReason::kEos;
  return llm::FinishReason::kLength;
}

CachingBackend::CachingBackend(llm::Backend& inner, GenerationCache& cache, std::string model_id)
    : inner_(inner), cache_(cache), model_id_(std::move(model_id)) {}

CacheKey CachingBackend::key(const llm::GenerationRequest& r) const {
  json messages = json::array();
  for (const auto& m : r.messages) messages.push_back({m.role, m.content});
  const json input = {{"prompt", r.prompt},
                      {"messages", messages},
                      {"grammar", r.grammar},
                      {"json_schema", r.json_schema}};
  const llm::SamplingOptions& s = r.sampling;
  const json params = {{"max_tokens", r.max_tokens},
                       {"stop", r.stop},
                       {"add_bos", r.add_bos},
                       {"ignore_eos", r.ignore_eos},
                       {"temperature", s.temperature},
                       {"top_k", s.top_k},
                       {"top_p", s.top_p},
                       {"min_p", s.min_p},
                       {"repeat_penalty", s.repeat_penalty},
                       {"presence_penalty", s.presence_penalty},
                       {"penalty_last_n", s.penalty_last_n},
                       {"seed", s.seed}};
  // nlohmann::json objects keep keys sorted: dump() is a canonical form.
  return CacheKey{model_id_, sha256_hex(input.dump()), params.dump(), "", 0};
}

std::vector<llm::GenerationResult> CachingBackend::generate(
    const std::vector<llm::GenerationRequest>& requests) {
  for (const auto& r : requests) {
    if (r.sampling.seed == llm::kSeedFromIndex && r.sampling.temperature > 0.0f) {
      misses_ += requests.size();
      return inner_.generate(requests);  // position-dependent seeds: not cacheable
    }
  }
  std::vector<llm::GenerationResult> out(requests.size());
  std::vector<CacheKey> keys;
  std::vector<std::size_t> miss_index;
  std::vector<llm::GenerationRequest> miss;
  keys.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    keys.push_back(key(requests[i]));
    if (auto hit = cache_.get(keys.back())) {
      llm::GenerationResult& g = out[i];
      g.text = std::move(hit->text);
      g.prompt_tokens = hit->prompt_tokens;
      g.generated_tokens = hit->generated_tokens;
      g.mean_logprob = hit->mean_logprob.value_or(0.0);
      g.finish = finish_from_name(hit->finish);
      ++hits_;
    } else {
      miss_index.push_back(i);
      miss.push_back(requests[i]);
    }
  }
  if (miss.empty()) return out;
  std::vector<llm::GenerationResult> fresh = inner_.generate(miss);
  if (fresh.size() != miss.size()) {
    throw ModelError("backend " + inner_.name() + " returned " + std::to_string(fresh.size()) +
                     " results for " + std::to_string(miss.size()) + " requests");
  }
  std::vector<std::pair<CacheKey, CachedGeneration>> rows;
  rows.reserve(fresh.size());
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    const llm::GenerationResult& g = fresh[k];
    rows.push_back(
        {keys[miss_index[k]], CachedGeneration{g.text, g.prompt_tokens, g.generated_tokens,
                                               g.mean_logprob, finish_name(g.finish)}});
    out[miss_index[k]] = std::move(fresh[k]);
  }
  cache_.put(rows);
  misses_ += miss.size();
  return out;
}

}  // namespace ksparse::synth
