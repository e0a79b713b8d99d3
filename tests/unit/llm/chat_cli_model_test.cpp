// `ksparse llm generate --chat --json-schema/--grammar` end to end with the real GGUF (label
// "model").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/test_util.h"

namespace ksparse {
namespace {

using test::run_cli;

TEST(LlmChatCli, ChatWithJsonSchemaPrintsParseableAnswers) {
  test::TempDir dir;
  const auto prompts = test::write_file(
      dir / "p.txt", "Topic: 서울의 지하철.\nTopic: solar panels.\nTopic: 김치 발효.\n");
  const auto schema = test::write_file(dir / "s.json", R"({
    "type": "object",
    "properties": {"queries": {"type": "array", "minItems": 3, "maxItems": 3,
                               "items": {"type": "string", "minLength": 1, "maxLength": 24}}},
    "required": ["queries"]})");
  const auto r = run_cli({"llm", "generate", "--model", test::test_model().string(),
                          "--prompt-file", prompts.string(), "--chat", "--system",
                          "Write three search queries as JSON.", "--json-schema", schema.string(),
                          "--parallel", "3", "--max-tokens", "120", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The base Gemma GGUF has no template: the family comes from its architecture, and --chat
  // without sampling flags uses Gemma 3's card defaults.
  EXPECT_NE(r.err.find("chat family gemma3"), std::string::npos) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["finish"], "eos") << line;
    const auto answer = nlohmann::json::parse(j["text"].get<std::string>());
    ASSERT_EQ(answer["queries"].size(), 3u) << line;
    for (const auto& q : answer["queries"]) EXPECT_FALSE(q.get<std::string>().empty()) << line;
    ++n;
  }
  EXPECT_EQ(n, 3);
}

TEST(LlmChatCli, GrammarFileConstrainsRawPrompts) {
  test::TempDir dir;
  const auto prompts = test::write_file(dir / "p.txt", "Is water wet? Answer:\n");
  const auto grammar = test::write_file(dir / "g.gbnf", "root ::= \"yes\" | \"no\"\n");
  const auto r = run_cli({"llm", "generate", "--model", test::test_model().string(),
                          "--prompt-file", prompts.string(), "--grammar", grammar.string(),
                          "--temp", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const std::string text = j["text"];
  EXPECT_TRUE(text == "yes" || text == "no") << text;
}

TEST(LlmChatCli, BadConstraintsAndFamiliesAreClearErrors) {
  test::TempDir dir;
  const auto prompts = test::write_file(dir / "p.txt", "x\n");
  const auto schema = test::write_file(dir / "s.json", R"({"type": "string", "pattern": "a+"})");
  auto r = run_cli({"llm", "generate", "--model", test::test_model().string(), "--prompt-file",
                    prompts.string(), "--json-schema", schema.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--json-schema"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'pattern'"), std::string::npos) << r.err;

  const auto grammar = test::write_file(dir / "g.gbnf", "root ::= undefined\n");
  r = run_cli({"llm", "generate", "--model", test::test_model().string(), "--prompt-file",
               prompts.string(), "--grammar", grammar.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--grammar"), std::string::npos) << r.err;

  r = run_cli({"llm", "generate", "--model", test::test_model().string(), "--prompt-file",
               prompts.string(), "--chat", "--family", "llama9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--family"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ksparse
