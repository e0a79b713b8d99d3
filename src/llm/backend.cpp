// Validation shared by every Backend implementation.
#include "ksparse/llm/backend.h"

#include <fmt/format.h>

#include <cmath>

#include "ksparse/core/error.h"
#include "ksparse/llm/json_schema_grammar.h"
#include "ksparse/llm/model.h"
#include "llama_internal.h"

namespace ksparse::llm {

void check_gbnf(const std::string& gbnf, const std::string& setting) {
  init_llama_backend();  // routes llama.cpp's log, so that its complaint can be kept out of it
  std::string why;
  llama_sampler* s = nullptr;
  {
    detail::LogCapture capture(
        [&](const std::string& line) {
          if (why.empty()) why = line;
        },
        /*forward=*/false);
    // Without a vocabulary llama.cpp only parses the grammar and checks its rules.
    s = llama_sampler_init_grammar(nullptr, gbnf.c_str(), "root");
  }
  if (s == nullptr) {
    throw ConfigError(fmt::format(
        "{}: llama.cpp's GBNF parser rejected it ({}; its parser prints the position on "
        "stderr); the start rule must be named 'root'",
        setting, why.empty() ? "no reason given" : why));
  }
  llama_sampler_free(s);
}

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
  if (prompt.empty() == messages.empty()) {
    throw ConfigError(
        "prompt/messages: give exactly one (prompt for a raw completion, messages for chat)");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant") {
      throw ConfigError(fmt::format(
          "messages[{}].role: '{}' (must be \"system\", \"user\" or \"assistant\")", i, r));
    }
  }
  if (!grammar.empty() && !json_schema.empty()) {
    throw ConfigError("grammar/json_schema: give at most one");
  }
  if (!json_schema.empty()) json_schema_to_gbnf(json_schema);  // ConfigError naming the keyword
  if (!grammar.empty()) check_gbnf(grammar, "grammar");
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
