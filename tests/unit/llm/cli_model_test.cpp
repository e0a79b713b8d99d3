// `ksparse llm ...` end to end with the real GGUF (label "model").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/test_util.h"

namespace ksparse {
namespace {

using test::run_cli;

TEST(LlmCli, InfoPrintsArchitectureParamsQuantAndContext) {
  const auto r = run_cli({"llm", "info", "--model", test::test_model().string(), "--ctx", "4096",
                          "--parallel", "8", "--gpu-mem-budget", "12GiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gemma3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q4_K"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("32768"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KV cache"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chat template"), std::string::npos) << r.out;
}

TEST(LlmCli, InfoJsonAutoOnCpuBuildIsZeroLayers) {
  const auto r = run_cli({"llm", "info", "--model", test::test_model().string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "gemma3");
  EXPECT_GT(j["n_params"].get<uint64_t>(), 0u);
  const auto& plan = j["memory_plan"];
  uint64_t sum = 0;
  for (const auto& d : plan["devices"]) sum += d["total_bytes"].get<uint64_t>();
  EXPECT_EQ(sum, plan["total_bytes"].get<uint64_t>());
  if (j["gpus"].empty()) {
    EXPECT_EQ(plan["n_gpu_layers"], 0);
    EXPECT_NE(plan["note"].get<std::string>().find("auto -> 0"), std::string::npos);
  } else {
    EXPECT_GT(plan["n_gpu_layers"].get<int>(), 0);
  }
}

TEST(LlmCli, InfoRefusesAnImpossibleHostBudget) {
  const auto r = run_cli({"llm", "info", "--model", test::test_model().string(), "--ctx", "32768",
                          "--host-mem-budget", "16MiB"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ksparse llm info:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("host budget is 16.00 MiB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--kv-type q8_0"), std::string::npos) << r.err;
}

TEST(LlmCli, GenerateJsonlOneLinePerPrompt) {
  test::TempDir dir;
  const auto prompts = test::write_file(
      dir / "p.jsonl",
      "{\"prompt\": \"The capital of France is\"}\n\nOnce upon a time\n검색 엔진은\n");
  const auto r =
      run_cli({"llm", "generate", "--model", test::test_model().string(), "--prompt-file",
               prompts.string(), "--parallel", "2", "--max-tokens", "8", "--temp", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["index"], n);
    EXPECT_LE(j["generated_tokens"].get<int>(), 8);
    EXPECT_TRUE(j["finish"] == "length" || j["finish"] == "eos" || j["finish"] == "stop");
    ++n;
  }
  EXPECT_EQ(n, 3);
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

TEST(LlmCli, GenerateReportsBadJsonLine) {
  test::TempDir dir;
  const auto prompts = test::write_file(dir / "p.jsonl", "ok prompt\n{\"text\": 1}\n");
  const auto r = run_cli({"llm", "generate", "--model", test::test_model().string(),
                          "--prompt-file", prompts.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("p.jsonl:2"), std::string::npos) << r.err;
}

// `llm bench --json`: one object per parallelism with the documented fields, all positive.
TEST(LlmCli, BenchJsonHasOneRowPerParallelismWithTheDocumentedFields) {
  const auto r = run_cli({"llm", "bench", "--model", test::test_model().string(), "--parallel",
                          "1,2", "--n-prompt", "96", "--n-gen", "4", "-t", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = nlohmann::json::parse(r.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    EXPECT_EQ(row["parallel"], i == 0 ? 1 : 2);
    for (const char* key : {"pp_tok_s", "gen_tok_s", "wall_s", "peak_rss_mib", "prompt_seconds",
                            "generation_seconds"}) {
      ASSERT_TRUE(row.contains(key)) << key;
      EXPECT_GT(row[key].get<double>(), 0.0) << key;
    }
    EXPECT_EQ(row["generated_tokens"].get<int>(), 4 * (i == 0 ? 1 : 2));
    EXPECT_LE(row["prompt_seconds"].get<double>() + row["generation_seconds"].get<double>(),
              row["wall_s"].get<double>());
  }
}

}  // namespace
}  // namespace ksparse
