// Chat formats per model family: render chat messages into the prompt string the model was trained
// on, parse its raw output back into the answer (and the reasoning, kept apart), and the stop
// strings and sampling defaults each family's model card recommends.
//
// Families written out here (exact strings, no llama.cpp needed):
//   qwen3   ChatML; non-thinking by default: the assistant turn opens with an empty think block
//           "<think>\n\n</think>\n\n" (what enable_thinking=false does in Qwen3's template).
//   gpt-oss harmony: a system turn carrying "Reasoning: low|medium|high", the caller's system text
//           as the developer turn ("# Instructions"), the answer on the "final" channel.
//   gemma3  "<start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n"; no system role: the
//           system text is merged into the first user turn. Contents are trimmed (as Gemma's
//           template does).
// Any other model: kTemplate, rendered by the in-process backend with the GGUF's own template
// through llama.cpp (llama_chat_apply_template); the HTTP backend leaves it to the server.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "ksparse/llm/backend.h"

namespace ksparse::llm {

enum class ChatFamily {
  kAuto,      // detect from the GGUF (architecture, then chat template)
  kQwen3,     // ChatML with think blocks
  kGptOss,    // harmony
  kGemma3,    // Gemma turns
  kTemplate,  // the model's own GGUF chat template via llama.cpp
};

// "auto" | "qwen3" | "gpt-oss" | "gemma3" | "template" -> ChatFamily; ConfigError naming `setting`
// otherwise.
ChatFamily parse_chat_family(const std::string& text, const std::string& setting = "family");
const char* chat_family_name(ChatFamily family);

// gpt-oss reasoning effort ("Reasoning: ..." in the harmony system turn).
enum class ReasoningEffort { kLow, kMedium, kHigh };
ReasoningEffort parse_reasoning_effort(const std::string& text,
                                       const std::string& setting = "reasoning");
const char* reasoning_effort_name(ReasoningEffort effort);

struct ChatFormatOptions {
  ChatFamily family = ChatFamily::kAuto;
  // qwen3: let the model think (no empty think block is prefilled; the think block it writes is
  // stripped from the answer and returned as reasoning). Default off: non-thinking mode.
  bool thinking = false;
  ReasoningEffort reasoning = ReasoningEffort::kLow;  // gpt-oss only
  // gpt-oss: "Current date: <this>" line in the system turn; "" omits the line (reproducible
  // prompts).
  std::string current_date;
  // gpt-oss: the model identity line of the system turn (harmony's default).
  std::string model_identity = "You are ChatGPT, a large language model trained by OpenAI.";
};

// The family to use for a model: `override_family` unless it is kAuto; otherwise from the GGUF's
// general.architecture ("qwen3", "qwen3moe" -> qwen3; "gpt-oss" -> gpt-oss; "gemma3",
// "gemma3n" -> gemma3), then from markers in its chat template ("<|im_start|>" with "<think>" ->
// qwen3; "<|channel|>" -> gpt-oss; "<start_of_turn>" -> gemma3); kTemplate when the GGUF has some
// other template. Throws ConfigError when nothing matches and there is no template (the message
// says to pass a family).
ChatFamily detect_chat_family(const std::string& architecture, const std::string& chat_template,
                              ChatFamily override_family = ChatFamily::kAuto);

// Renders `messages` (roles "system" | "user" | "assistant") and opens the assistant turn, so the
// model's completion is the answer. `answer_only`: the prompt ends where the answer itself starts
// even for reasoning models (qwen3: empty think block also with thinking; gpt-oss: the final
// channel is opened, no analysis) — for grammar-constrained requests, whose grammar describes the
// answer only. Assistant turns in the history are rendered as answers (qwen3: any think block
// removed; gpt-oss: on the final channel).
// Throws ConfigError for kAuto / kTemplate (resolve / render those elsewhere), an empty message
// list, an unknown role, or a last message from the assistant.
std::string render_chat(ChatFamily family, const std::vector<ChatMessage>& messages,
                        const ChatFormatOptions& options = {}, bool answer_only = false);

// Renders `messages` with llama.cpp's built-in chat templates (llama_chat_apply_template, no
// Jinja): `tmpl` is either a built-in name ("chatml", "gemma", "gpt-oss", "llama3", ...) or a GGUF
// chat template text, which llama.cpp matches to a built-in by its markers. `add_assistant` opens
// the assistant turn. Throws ConfigError when llama.cpp does not recognise the template (the
// message says to pass a family). This is how kTemplate models are rendered.
std::string render_chat_template(const std::string& tmpl, const std::vector<ChatMessage>& messages,
                                 bool add_assistant = true);

// What a chat completion means: the answer, and the reasoning the model wrote before it.
struct ChatOutput {
  std::string text;       // the answer (qwen3: think blocks removed; gpt-oss: final channel)
  std::string reasoning;  // qwen3: think block contents; gpt-oss: analysis channel text
  // gpt-oss: false when the output had channel markers but no final channel (e.g. max_tokens ran
  // out during analysis); text is then "". Always true for the other families.
  bool complete = true;
};

// Parses a raw completion whose special tokens were rendered as text. Trailing end-of-turn
// markers (e.g. "<|im_end|>", "<end_of_turn>", "<|return|>", "<|end|>") are removed. The answer
// is trimmed of leading/trailing ASCII whitespace for qwen3 (the newlines after "</think>") and
// gpt-oss; gemma3 and kTemplate text is returned as generated (minus end markers).
ChatOutput parse_chat_output(ChatFamily family, const std::string& raw);

// Strings that end an assistant turn in this family (besides the model's end-of-generation
// tokens), to add to a request's stop list.
std::vector<std::string> chat_stop_strings(ChatFamily family);

// Sampling recommended by the family's model card (other fields keep SamplingOptions defaults):
//   qwen3 non-thinking: T 0.7, top-p 0.8, top-k 20, min-p 0; thinking: T 0.6, top-p 0.95,
//   top-k 20, min-p 0. gpt-oss: T 1.0, top-p 1.0, top-k 0 (off), min-p 0. gemma3: T 1.0,
//   top-k 64, top-p 0.95, min-p 0. kTemplate / kAuto: SamplingOptions defaults.
SamplingOptions default_sampling(ChatFamily family, bool thinking = false);

}  // namespace ksparse::llm
