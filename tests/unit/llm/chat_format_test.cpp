// Chat formats: exact prompt strings per family (checked against llama.cpp's built-in templates
// where it has them), output parsing, family detection, stops and sampling defaults.
#include "ksparse/llm/chat_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ksparse/core/error.h"

namespace ksparse::llm {
namespace {

std::vector<ChatMessage> conversation() {
  return {{"system", "Be brief."},
          {"user", "Hello"},
          {"assistant", "Hi!"},
          {"user", "  What is 2+2? "}};
}

TEST(ChatFormat, Qwen3NonThinkingExactPrompt) {
  const std::vector<ChatMessage> m = {{"system", "You write search queries."},
                                      {"user", "Document: 서울은 대한민국의 수도이다."}};
  EXPECT_EQ(render_chat(ChatFamily::kQwen3, m),
            "<|im_start|>system\nYou write search queries.<|im_end|>\n"
            "<|im_start|>user\nDocument: 서울은 대한민국의 수도이다.<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  // Thinking mode: the model opens its own think block.
  ChatFormatOptions o;
  o.thinking = true;
  EXPECT_EQ(render_chat(ChatFamily::kQwen3, m, o),
            "<|im_start|>system\nYou write search queries.<|im_end|>\n"
            "<|im_start|>user\nDocument: 서울은 대한민국의 수도이다.<|im_end|>\n"
            "<|im_start|>assistant\n");
  // Grammar-constrained requests skip thinking even when it is on.
  EXPECT_EQ(render_chat(ChatFamily::kQwen3, m, o, /*answer_only=*/true),
            render_chat(ChatFamily::kQwen3, m));
}

TEST(ChatFormat, Qwen3IsChatMLPlusEmptyThinkBlock) {
  // llama.cpp's built-in ChatML renders the same turns; non-thinking adds the empty think block.
  const auto m = conversation();
  EXPECT_EQ(render_chat(ChatFamily::kQwen3, m),
            render_chat_template("chatml", m) + "<think>\n\n</think>\n\n");
}

TEST(ChatFormat, Qwen3HistoryDropsReasoning) {
  const std::vector<ChatMessage> m = {{"user", "a"},
                                      {"assistant", "<think>\nhmm\n</think>\n\nb"},
                                      {"user", "c"}};
  EXPECT_EQ(render_chat(ChatFamily::kQwen3, m),
            "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n"
            "<|im_start|>user\nc<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(ChatFormat, HarmonyExactPrompt) {
  const std::vector<ChatMessage> m = {{"system", "Answer in Korean."},
                                      {"user", "What is BM25?"}};
  const std::string system =
      "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
      "Knowledge cutoff: 2024-06\n\n"
      "Reasoning: low\n\n"
      "# Valid channels: analysis, commentary, final. Channel must be included for every "
      "message.<|end|>";
  EXPECT_EQ(render_chat(ChatFamily::kGptOss, m),
            system +
                "<|start|>developer<|message|># Instructions\n\nAnswer in Korean.\n\n<|end|>"
                "<|start|>user<|message|>What is BM25?<|end|><|start|>assistant");

  ChatFormatOptions o;
  o.reasoning = ReasoningEffort::kHigh;
  o.current_date = "2026-11-27";
  const std::string p = render_chat(ChatFamily::kGptOss, {{"user", "Hi"}}, o);
  EXPECT_EQ(p,
            "<|start|>system<|message|>You are ChatGPT, a large language model trained by "
            "OpenAI.\nKnowledge cutoff: 2024-06\nCurrent date: 2026-11-27\n\nReasoning: high\n\n"
            "# Valid channels: analysis, commentary, final. Channel must be included for every "
            "message.<|end|><|start|>user<|message|>Hi<|end|><|start|>assistant");
  // The user turns match llama.cpp's built-in harmony rendering (which has no system header).
  const std::string builtin = render_chat_template("gpt-oss", {{"user", "Hi"}});
  EXPECT_EQ(builtin, "<|start|>user<|message|>Hi<|end|><|start|>assistant");
  ASSERT_GE(p.size(), builtin.size());
  EXPECT_EQ(p.substr(p.size() - builtin.size()), builtin);
}

TEST(ChatFormat, HarmonyHistoryAndAnswerOnly) {
  const std::vector<ChatMessage> m = {{"user", "a"}, {"assistant", "b"}, {"user", "c"}};
  const std::string p = render_chat(ChatFamily::kGptOss, m, {}, /*answer_only=*/true);
  const std::string tail =
      "<|start|>user<|message|>a<|end|>"
      "<|start|>assistant<|channel|>final<|message|>b<|end|>"
      "<|start|>user<|message|>c<|end|>"
      "<|start|>assistant<|channel|>final<|message|>";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
}

TEST(ChatFormat, Gemma3ExactPromptMergesSystemIntoFirstUserTurn) {
  const auto m = conversation();
  const std::string expected =
      "<start_of_turn>user\nBe brief.\n\nHello<end_of_turn>\n"
      "<start_of_turn>model\nHi!<end_of_turn>\n"
      "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
      "<start_of_turn>model\n";
  EXPECT_EQ(render_chat(ChatFamily::kGemma3, m), expected);
  EXPECT_EQ(render_chat_template("gemma", m), expected);
  EXPECT_EQ(render_chat(ChatFamily::kGemma3, {{"user", "안녕"}}),
            "<start_of_turn>user\n안녕<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatFormat, RenderRejectsBadConversations) {
  EXPECT_THROW(render_chat(ChatFamily::kQwen3, {}), ConfigError);
  EXPECT_THROW(render_chat(ChatFamily::kQwen3, {{"tool", "x"}}), ConfigError);
  EXPECT_THROW(render_chat(ChatFamily::kGemma3, {{"user", "a"}, {"assistant", "b"}}),
               ConfigError);
  EXPECT_THROW(render_chat(ChatFamily::kTemplate, {{"user", "a"}}), ConfigError);
  EXPECT_THROW(render_chat(ChatFamily::kAuto, {{"user", "a"}}), ConfigError);
  EXPECT_THROW(render_chat_template("{{ no such template }}", {{"user", "a"}}), ConfigError);
}

TEST(ChatFormat, ParseQwen3StripsThinkBlocks) {
  auto out = parse_chat_output(ChatFamily::kQwen3, "<think>\n\n</think>\n\n서울 인구<|im_end|>");
  EXPECT_EQ(out.text, "서울 인구");
  EXPECT_EQ(out.reasoning, "");
  out = parse_chat_output(ChatFamily::kQwen3,
                          "<think>\nThe user wants a query.\n</think>\n\n{\"q\": 1}");
  EXPECT_EQ(out.text, "{\"q\": 1}");
  EXPECT_EQ(out.reasoning, "The user wants a query.");
  // Thinking mode where the template prefilled "<think>\n": only the closing tag is generated.
  out = parse_chat_output(ChatFamily::kQwen3, "let me see\n</think>\n\nanswer");
  EXPECT_EQ(out.text, "answer");
  EXPECT_EQ(out.reasoning, "let me see");
  // Cut off inside the think block: no answer.
  out = parse_chat_output(ChatFamily::kQwen3, "<think>\nstill thinking");
  EXPECT_EQ(out.text, "");
  EXPECT_EQ(out.reasoning, "still thinking");
  // No think block at all.
  EXPECT_EQ(parse_chat_output(ChatFamily::kQwen3, "plain").text, "plain");
}

TEST(ChatFormat, ParseHarmonyExtractsFinalChannel) {
  auto out = parse_chat_output(
      ChatFamily::kGptOss,
      "<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|end|>"
      "<|start|>assistant<|channel|>final<|message|>4<|return|>");
  EXPECT_TRUE(out.complete);
  EXPECT_EQ(out.text, "4");
  EXPECT_EQ(out.reasoning, "User asks 2+2. Answer 4.");
  // Final channel ended by <|end|>, with a constrain marker in its header.
  out = parse_chat_output(ChatFamily::kGptOss,
                          "<|channel|>final <|constrain|>json<|message|>{\"a\": 1}<|end|>");
  EXPECT_EQ(out.text, "{\"a\": 1}");
  EXPECT_EQ(out.reasoning, "");
  // Truncated during analysis: no final channel.
  out = parse_chat_output(ChatFamily::kGptOss, "<|channel|>analysis<|message|>Let me think");
  EXPECT_FALSE(out.complete);
  EXPECT_EQ(out.text, "");
  EXPECT_EQ(out.reasoning, "Let me think");
  // The prompt opened the final channel (answer_only): everything is the answer.
  out = parse_chat_output(ChatFamily::kGptOss, "{\"queries\": []}<|return|>");
  EXPECT_TRUE(out.complete);
  EXPECT_EQ(out.text, "{\"queries\": []}");
}

TEST(ChatFormat, ParseGemma3RemovesEndOfTurn) {
  EXPECT_EQ(parse_chat_output(ChatFamily::kGemma3, "답변<end_of_turn>").text, "답변");
  EXPECT_EQ(parse_chat_output(ChatFamily::kGemma3, " keep spaces ").text, " keep spaces ");
}

TEST(ChatFormat, DetectFamily) {
  EXPECT_EQ(detect_chat_family("qwen3", ""), ChatFamily::kQwen3);
  EXPECT_EQ(detect_chat_family("qwen3moe", ""), ChatFamily::kQwen3);
  EXPECT_EQ(detect_chat_family("gpt-oss", ""), ChatFamily::kGptOss);
  // The base Gemma 3 270M GGUF has no template: its architecture decides.
  EXPECT_EQ(detect_chat_family("gemma3", ""), ChatFamily::kGemma3);
  EXPECT_EQ(detect_chat_family("llama", "{% ... <|channel|> ... %}"), ChatFamily::kGptOss);
  EXPECT_EQ(detect_chat_family("llama", "<|im_start|>{% if enable_thinking %}<think>"),
            ChatFamily::kQwen3);
  EXPECT_EQ(detect_chat_family("llama", "{{ '<start_of_turn>' + role }}"), ChatFamily::kGemma3);
  EXPECT_EQ(detect_chat_family("llama", "<|start_header_id|>"), ChatFamily::kTemplate);
  EXPECT_EQ(detect_chat_family("gemma3", "", ChatFamily::kQwen3), ChatFamily::kQwen3);
  EXPECT_THROW(detect_chat_family("bert", ""), ConfigError);
}

TEST(ChatFormat, NamesRoundTrip) {
  for (auto f : {ChatFamily::kAuto, ChatFamily::kQwen3, ChatFamily::kGptOss, ChatFamily::kGemma3,
                 ChatFamily::kTemplate}) {
    EXPECT_EQ(parse_chat_family(chat_family_name(f)), f);
  }
  EXPECT_THROW(parse_chat_family("llama"), ConfigError);
  for (auto e : {ReasoningEffort::kLow, ReasoningEffort::kMedium, ReasoningEffort::kHigh}) {
    EXPECT_EQ(parse_reasoning_effort(reasoning_effort_name(e)), e);
  }
  EXPECT_THROW(parse_reasoning_effort("max"), ConfigError);
}

TEST(ChatFormat, StopsAndSamplingDefaultsFromModelCards) {
  EXPECT_EQ(chat_stop_strings(ChatFamily::kQwen3).front(), "<|im_end|>");
  EXPECT_EQ(chat_stop_strings(ChatFamily::kGemma3).front(), "<end_of_turn>");
  EXPECT_EQ(chat_stop_strings(ChatFamily::kGptOss).front(), "<|return|>");
  for (const auto& s : chat_stop_strings(ChatFamily::kGptOss)) EXPECT_NE(s, "<|end|>");

  const auto q = default_sampling(ChatFamily::kQwen3);
  EXPECT_FLOAT_EQ(q.temperature, 0.7f);
  EXPECT_FLOAT_EQ(q.top_p, 0.8f);
  EXPECT_EQ(q.top_k, 20);
  EXPECT_FLOAT_EQ(q.min_p, 0.0f);
  const auto g = default_sampling(ChatFamily::kGptOss);
  EXPECT_FLOAT_EQ(g.temperature, 1.0f);
  EXPECT_FLOAT_EQ(g.top_p, 1.0f);
  const auto m = default_sampling(ChatFamily::kGemma3);
  EXPECT_FLOAT_EQ(m.temperature, 1.0f);
  EXPECT_EQ(m.top_k, 64);
  EXPECT_FLOAT_EQ(m.top_p, 0.95f);
  for (auto f : {ChatFamily::kQwen3, ChatFamily::kGptOss, ChatFamily::kGemma3}) {
    EXPECT_NO_THROW(default_sampling(f).validate());
  }
}

}  // namespace
}  // namespace ksparse::llm
