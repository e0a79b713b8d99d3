// Chat formats written out per family. The strings follow each family's released chat template
// (Qwen3's enable_thinking=false branch, gpt-oss's chat_template.jinja, Gemma 3's template), so
// the prompts match what the models were fine-tuned on byte for byte.
#include "ksparse/llm/chat_format.h"

#include <fmt/format.h>

#include <string_view>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "llama_internal.h"

namespace ksparse::llm {
namespace {

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void check_roles(const std::vector<ChatMessage>& messages) {
  if (messages.empty()) throw ConfigError("messages: empty (give at least one user message)");
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant") {
      throw ConfigError(fmt::format(
          "messages[{}].role: '{}' (must be \"system\", \"user\" or \"assistant\")", i, r));
    }
  }
  if (messages.back().role == "assistant") {
    throw ConfigError(
        "messages: the last message is from the assistant; end with a user (or system) message");
  }
}

// Qwen3's template drops the reasoning of earlier assistant turns: only the text after the last
// "</think>" is kept.
std::string strip_think_for_history(const std::string& content) {
  const size_t end = content.rfind("</think>");
  if (end == std::string::npos) return content;
  return std::string(trim_ascii(std::string_view(content).substr(end + 8)));
}

std::string render_qwen3(const std::vector<ChatMessage>& messages, const ChatFormatOptions& o,
                         bool answer_only) {
  std::string out;
  for (const auto& m : messages) {
    const std::string content =
        m.role == "assistant" ? strip_think_for_history(m.content) : m.content;
    out += "<|im_start|>" + m.role + "\n" + content + "<|im_end|>\n";
  }
  out += "<|im_start|>assistant\n";
  if (!o.thinking || answer_only) out += "<think>\n\n</think>\n\n";
  return out;
}

std::string render_harmony(const std::vector<ChatMessage>& messages, const ChatFormatOptions& o,
                           bool answer_only) {
  std::string out = "<|start|>system<|message|>";
  out += o.model_identity + "\n";
  out += "Knowledge cutoff: 2024-06\n";
  if (!o.current_date.empty()) out += "Current date: " + o.current_date + "\n";
  out += "\n";
  out += fmt::format("Reasoning: {}\n\n", reasoning_effort_name(o.reasoning));
  out += "# Valid channels: analysis, commentary, final. Channel must be included for every "
         "message.<|end|>";
  size_t first = 0;
  if (messages.front().role == "system") {
    // The caller's system text is harmony's developer message.
    out += "<|start|>developer<|message|># Instructions\n\n" + messages.front().content +
           "\n\n<|end|>";
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.role == "assistant") {
      out += "<|start|>assistant<|channel|>final<|message|>" + m.content + "<|end|>";
    } else {
      // A later system message has no harmony slot; it goes in as a developer message.
      const std::string role = m.role == "system" ? "developer" : m.role;
      out += "<|start|>" + role + "<|message|>" + m.content + "<|end|>";
    }
  }
  out += "<|start|>assistant";
  if (answer_only) out += "<|channel|>final<|message|>";
  return out;
}

std::string render_gemma3(const std::vector<ChatMessage>& messages) {
  std::string out;
  std::string system;
  for (const auto& m : messages) {
    if (m.role == "system") {
      if (!system.empty()) system += "\n\n";
      system += std::string(trim_ascii(m.content));
      continue;
    }
    const bool model = m.role == "assistant";
    out += model ? "<start_of_turn>model\n" : "<start_of_turn>user\n";
    if (!model && !system.empty()) {
      out += system + "\n\n";
      system.clear();
    }
    out += std::string(trim_ascii(m.content)) + "<end_of_turn>\n";
  }
  if (!system.empty()) {
    // Only system text after the last user turn: it becomes a user turn of its own.
    out += "<start_of_turn>user\n" + system + "<end_of_turn>\n";
  }
  out += "<start_of_turn>model\n";
  return out;
}

void strip_suffixes(std::string& s, const std::vector<std::string_view>& markers) {
  bool again = true;
  while (again) {
    again = false;
    s = std::string(trim_ascii(s));
    for (const auto m : markers) {
      if (ends_with(s, m)) {
        s.resize(s.size() - m.size());
        again = true;
      }
    }
  }
}

ChatOutput parse_qwen3(const std::string& raw) {
  ChatOutput out;
  std::string text;
  size_t pos = 0;
  // A think block may lack its opening tag (the template prefilled "<think>\n" in thinking mode),
  // so everything up to the first "</think>" counts as reasoning when "</think>" comes first.
  const size_t first_close = raw.find("</think>");
  const size_t first_open = raw.find("<think>");
  if (first_close != std::string::npos &&
      (first_open == std::string::npos || first_close < first_open)) {
    out.reasoning = std::string(trim_ascii(std::string_view(raw).substr(0, first_close)));
    pos = first_close + 8;
  }
  while (pos < raw.size()) {
    const size_t open = raw.find("<think>", pos);
    if (open == std::string::npos) {
      text += raw.substr(pos);
      break;
    }
    text += raw.substr(pos, open - pos);
    const size_t close = raw.find("</think>", open + 7);
    const std::string_view inner =
        std::string_view(raw).substr(open + 7, close == std::string::npos ? std::string::npos
                                                                          : close - open - 7);
    const std::string_view r = trim_ascii(inner);
    if (!r.empty()) {
      if (!out.reasoning.empty()) out.reasoning += "\n\n";
      out.reasoning += std::string(r);
    }
    if (close == std::string::npos) break;  // unterminated think block: no answer after it
    pos = close + 8;
  }
  strip_suffixes(text, {"<|im_end|>", "<|endoftext|>"});
  out.text = std::move(text);
  return out;
}

// Harmony messages: [<|start|>assistant]<|channel|>NAME[ <|constrain|>TYPE]<|message|>BODY
// ending at <|end|>, <|return|>, <|call|> or the end of the output.
ChatOutput parse_harmony(const std::string& raw) {
  static constexpr std::string_view kChannel = "<|channel|>";
  static constexpr std::string_view kMessage = "<|message|>";
  ChatOutput out;
  if (!contains(raw, kChannel)) {
    // No channel markers (e.g. the prompt opened the final channel itself): all of it is answer.
    std::string text = raw;
    strip_suffixes(text, {"<|return|>", "<|end|>", "<|call|>"});
    out.text = std::move(text);
    return out;
  }
  bool have_final = false;
  std::string final_text;
  size_t pos = 0;
  // Text before the first channel marker belongs to a final channel the prompt opened.
  const size_t first = raw.find(kChannel);
  {
    std::string head = raw.substr(0, first);
    strip_suffixes(head, {"<|start|>assistant", "<|return|>", "<|end|>"});
    if (!head.empty()) {
      final_text = head;
      have_final = true;
    }
  }
  pos = first;
  while (pos != std::string::npos && pos < raw.size()) {
    const size_t ch = raw.find(kChannel, pos);
    if (ch == std::string::npos) break;
    const size_t msg = raw.find(kMessage, ch);
    if (msg == std::string::npos) break;  // header cut off by max_tokens
    std::string_view header =
        std::string_view(raw).substr(ch + kChannel.size(), msg - ch - kChannel.size());
    const size_t sp = header.find_first_of(" <");
    const std::string channel(trim_ascii(header.substr(0, sp)));
    const size_t body_start = msg + kMessage.size();
    size_t body_end = raw.size();
    for (const std::string_view end : {"<|end|>", "<|return|>", "<|call|>", "<|start|>"}) {
      const size_t e = raw.find(end, body_start);
      if (e != std::string::npos && e < body_end) body_end = e;
    }
    const std::string_view body =
        trim_ascii(std::string_view(raw).substr(body_start, body_end - body_start));
    if (channel == "final") {
      final_text = std::string(body);  // the last final message wins
      have_final = true;
    } else if (channel == "analysis") {
      if (!out.reasoning.empty()) out.reasoning += "\n\n";
      out.reasoning += std::string(body);
    }
    pos = body_end;
  }
  out.text = have_final ? std::string(trim_ascii(final_text)) : std::string();
  out.complete = have_final;
  return out;
}

}  // namespace

ChatFamily parse_chat_family(const std::string& text, const std::string& setting) {
  if (text == "auto") return ChatFamily::kAuto;
  if (text == "qwen3") return ChatFamily::kQwen3;
  if (text == "gpt-oss" || text == "harmony") return ChatFamily::kGptOss;
  if (text == "gemma3") return ChatFamily::kGemma3;
  if (text == "template") return ChatFamily::kTemplate;
  throw ConfigError(fmt::format("{}: '{}' (must be auto, qwen3, gpt-oss, gemma3 or template)",
                                setting, text));
}

const char* chat_family_name(ChatFamily family) {
  switch (family) {
    case ChatFamily::kAuto:
      return "auto";
    case ChatFamily::kQwen3:
      return "qwen3";
    case ChatFamily::kGptOss:
      return "gpt-oss";
    case ChatFamily::kGemma3:
      return "gemma3";
    case ChatFamily::kTemplate:
      return "template";
  }
  return "?";
}

ReasoningEffort parse_reasoning_effort(const std::string& text, const std::string& setting) {
  if (text == "low") return ReasoningEffort::kLow;
  if (text == "medium") return ReasoningEffort::kMedium;
  if (text == "high") return ReasoningEffort::kHigh;
  throw ConfigError(fmt::format("{}: '{}' (must be low, medium or high)", setting, text));
}

const char* reasoning_effort_name(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::kLow:
      return "low";
    case ReasoningEffort::kMedium:
      return "medium";
    case ReasoningEffort::kHigh:
      return "high";
  }
  return "?";
}

ChatFamily detect_chat_family(const std::string& architecture, const std::string& chat_template,
                              ChatFamily override_family) {
  if (override_family != ChatFamily::kAuto) return override_family;
  if (architecture == "qwen3" || architecture == "qwen3moe") return ChatFamily::kQwen3;
  if (architecture == "gpt-oss") return ChatFamily::kGptOss;
  if (architecture == "gemma3" || architecture == "gemma3n") return ChatFamily::kGemma3;
  if (contains(chat_template, "<|channel|>")) return ChatFamily::kGptOss;
  if (contains(chat_template, "<|im_start|>") && contains(chat_template, "<think>")) {
    return ChatFamily::kQwen3;
  }
  if (contains(chat_template, "<start_of_turn>")) return ChatFamily::kGemma3;
  if (!chat_template.empty()) return ChatFamily::kTemplate;
  throw ConfigError(fmt::format(
      "chat family: cannot tell it for architecture '{}' (no chat template in the model); pass "
      "--family qwen3|gpt-oss|gemma3, or send raw prompts",
      architecture));
}

std::string render_chat(ChatFamily family, const std::vector<ChatMessage>& messages,
                        const ChatFormatOptions& options, bool answer_only) {
  check_roles(messages);
  switch (family) {
    case ChatFamily::kQwen3:
      return render_qwen3(messages, options, answer_only);
    case ChatFamily::kGptOss:
      return render_harmony(messages, options, answer_only);
    case ChatFamily::kGemma3:
      return render_gemma3(messages);
    case ChatFamily::kAuto:
    case ChatFamily::kTemplate:
      break;
  }
  throw ConfigError(fmt::format(
      "render_chat: family '{}' has no fixed format (resolve auto with detect_chat_family; "
      "'template' is rendered by the model's own template in the backend)",
      chat_family_name(family)));
}

std::string render_chat_template(const std::string& tmpl, const std::vector<ChatMessage>& messages,
                                 bool add_assistant) {
  check_roles(messages);
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  size_t total = 0;
  for (const auto& m : messages) {
    chat.push_back({m.role.c_str(), m.content.c_str()});
    total += m.role.size() + m.content.size();
  }
  // The rendered text is the contents plus markup; llama.cpp returns the size it needs when the
  // buffer is too small, so one retry suffices.
  std::vector<char> buf(2 * total + 1024);
  int32_t n = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add_assistant,
                                        buf.data(), static_cast<int32_t>(buf.size()));
  if (n > static_cast<int32_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n));
    n = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add_assistant,
                                  buf.data(), static_cast<int32_t>(buf.size()));
  }
  if (n < 0) {
    throw ConfigError(fmt::format(
        "chat template: llama.cpp does not support this model's chat template ({} chars: '{}...'); "
        "pass --family qwen3|gpt-oss|gemma3, or send raw prompts",
        tmpl.size(), tmpl.substr(0, 60)));
  }
  return std::string(buf.data(), static_cast<size_t>(n));
}

ChatOutput parse_chat_output(ChatFamily family, const std::string& raw) {
  switch (family) {
    case ChatFamily::kQwen3:
      return parse_qwen3(raw);
    case ChatFamily::kGptOss:
      return parse_harmony(raw);
    case ChatFamily::kGemma3: {
      ChatOutput out;
      out.text = raw;
      while (ends_with(out.text, "<end_of_turn>")) out.text.resize(out.text.size() - 13);
      return out;
    }
    case ChatFamily::kAuto:
    case ChatFamily::kTemplate:
      break;
  }
  ChatOutput out;
  out.text = raw;
  return out;
}

std::vector<std::string> chat_stop_strings(ChatFamily family) {
  switch (family) {
    case ChatFamily::kQwen3:
      return {"<|im_end|>", "<|im_start|>"};
    case ChatFamily::kGptOss:
      // "<|end|>" is not a stop: it also closes the analysis message before the final one.
      return {"<|return|>", "<|call|>"};
    case ChatFamily::kGemma3:
      return {"<end_of_turn>", "<start_of_turn>"};
    case ChatFamily::kAuto:
    case ChatFamily::kTemplate:
      break;
  }
  return {};
}

SamplingOptions default_sampling(ChatFamily family, bool thinking) {
  SamplingOptions s;
  switch (family) {
    case ChatFamily::kQwen3:
      s.temperature = thinking ? 0.6f : 0.7f;
      s.top_p = thinking ? 0.95f : 0.8f;
      s.top_k = 20;
      s.min_p = 0.0f;
      break;
    case ChatFamily::kGptOss:
      s.temperature = 1.0f;
      s.top_p = 1.0f;
      s.top_k = 0;
      s.min_p = 0.0f;
      break;
    case ChatFamily::kGemma3:
      s.temperature = 1.0f;
      s.top_k = 64;
      s.top_p = 0.95f;
      s.min_p = 0.0f;
      break;
    case ChatFamily::kAuto:
    case ChatFamily::kTemplate:
      break;
  }
  return s;
}

}  // namespace ksparse::llm
