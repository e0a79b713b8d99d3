// Validation shared by every Backend implementation.
#include "ksparse/llm/backend.h"

#include <fmt/format.h>

#include <cmath>

#include "ksparse/core/error.h"

namespace ksparse::llm {

void SamplingOptions::validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) {
    throw ConfigError(fmt::format("temperature: {} (must be >= 0; 0 = greedy)", temperature));
  }
  if (top_k < 0) throw ConfigError(fmt::format("top_k: {} (must be >= 0; 0 = off)", top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    throw ConfigError(fmt::format("top_p: {} (must be in (0, 1]; 1 = off)", top_p));
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    throw ConfigError(fmt::format("min_p: {} (must be in [0, 1]; 0 = off)", min_p));
  }
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
    throw ConfigError(fmt::format("repeat_penalty: {} (must be > 0; 1 = off)", repeat_penalty));
  }
  if (!std::isfinite(presence_penalty)) {
    throw ConfigError("presence_penalty: must be finite (0 = off)");
  }
  if (penalty_last_n < 0) {
    throw ConfigError(fmt::format("penalty_last_n: {} (must be >= 0)", penalty_last_n));
  }
}

void GenerationRequest::validate() const {
  if (max_tokens < 1) throw ConfigError(fmt::format("max_tokens: {} (must be >= 1)", max_tokens));
  for (const auto& s : stop) {
    if (s.empty()) throw ConfigError("stop: empty stop string");
  }
  sampling.validate();
}

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEos:
      return "eos";
  }
  return "?";
}

}  // namespace ksparse::llm
