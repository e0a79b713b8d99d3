// Garbage from a real llama.cpp model: `ksparse synth queries` and `synth docs` run on a tiny
// random-weight GGUF (llm/random_model.h, made from the real small GGUF's metadata, so it tokenizes
// Korean like it) over real KorQuAD passages. The model writes random tokens of every script; the
// runs must complete, reject the garbage with a filter and a reason, and keep only pairs that
// really pass (label "model": needs the real GGUF for the tokenizer).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/llm/random_model.h"
#include "ksparse/synth/filters.h"
#include "ksparse/synth/triples.h"

namespace ksparse::synth {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The first `n` distinct KorQuAD dev contexts as a BEIR corpus.
fs::path korquad_corpus(const fs::path& dir, std::size_t n) {
  std::ifstream in(test::shared_data("korquad-v1/KorQuAD_v1.0_dev.json"));
  const json j = json::parse(in);
  std::string lines;
  std::set<std::string> seen;
  for (const auto& art : j["data"]) {
    for (const auto& p : art["paragraphs"]) {
      const std::string ctx = p["context"];
      if (seen.size() == n || !seen.insert(ctx).second) continue;
      std::string id = "k";  // (not "k" + to_string: GCC 12 -Wrestrict false positive)
      id += std::to_string(seen.size() - 1);
      lines += json{{"_id", id}, {"title", art["title"]}, {"text", ctx}}.dump() + "\n";
    }
  }
  return test::write_file(dir / "corpus.jsonl", lines);
}

fs::path random_model(const fs::path& dir) {
  llm::RandomModelOptions o;
  o.like = test::test_model();
  o.out = dir / "random.gguf";
  o.seed = 42;
  llm::write_random_model(o);
  return o.out;
}

std::string prompt_path(const std::string& name) {
  return (fs::path(KSPARSE_SOURCE_DIR) / "configs/prompts" / name).string();
}

std::vector<json> read_jsonl(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// The common checks of a finished run in `out`: funnel arithmetic, one rejection line per rejected
// candidate with a known filter and a reason, every kept pair with all-"pass" verdicts and a
// log-probability at or above the threshold, the manifest listing the outputs.
json check_run(const test::CommandResult& r, const fs::path& out, const std::string& kind) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json funnel = json::parse(r.out);
  EXPECT_EQ(json::parse(test::read_file(out / "funnel.json")), funnel);
  const std::size_t input = funnel["input"];
  const std::size_t passed = funnel["passed"];
  std::size_t rejected = 0;
  for (const auto& [name, n] : funnel["by_filter"].items()) rejected += n.get<std::size_t>();
  EXPECT_EQ(passed + rejected, input);

  const std::vector<json> rejections = read_jsonl(out / "rejections.jsonl");
  EXPECT_EQ(rejections.size(), rejected);
  const std::vector<std::string> order = funnel["order"];
  for (const json& rej : rejections) {
    const std::string filter = rej["filter"];
    EXPECT_NE(std::find(order.begin(), order.end(), filter), order.end()) << rej.dump();
    EXPECT_FALSE(rej["reason"].get<std::string>().empty()) << rej.dump();
  }

  const std::vector<Triple> triples = read_triples(out / "triples.jsonl");
  EXPECT_EQ(triples.size(), passed);
  for (const Triple& t : triples) {
    EXPECT_EQ(t.source, TripleSource::kSynthetic);
    if (!t.provenance) {
      ADD_FAILURE() << "no provenance: " << t.query;
      continue;
    }
    EXPECT_EQ(t.provenance->filters.size(), order.size()) << t.query;
    for (const auto& [name, verdict] : t.provenance->filters) {
      EXPECT_EQ(verdict, "pass") << name << ": " << t.query;
    }
    EXPECT_GE(t.provenance->logprob.value_or(-1e9), LogprobFilterOptions{}.min_mean_logprob)
        << t.query;
  }

  const json manifest = json::parse(test::read_file(out / "manifest.json"));
  EXPECT_EQ(manifest["kind"], kind);
  EXPECT_EQ(manifest["stats"]["funnel"], funnel);
  return funnel;
}

std::vector<std::string> queries_args(const fs::path& model, const fs::path& corpus,
                                      const fs::path& out,
                                      const std::vector<std::string>& templates) {
  std::vector<std::string> args = {"synth",           "queries",
                                   "--model",         model.string(),
                                   "--corpus",        corpus.string(),
                                   "--out",           out.string(),
                                   "--per-doc",       "4",
                                   "--seed",          "5",
                                   "--parallel",      "4",
                                   "--batch",         "8",
                                   "--threads",       "2",
                                   "--ctx-per-seq",   "1024",
                                   "--max-doc-chars", "300",
                                   "--json",          "--templates"};
  args.insert(args.end(), templates.begin(), templates.end());
  return args;
}

// The default JSON templates: random tokens almost never close the JSON object, so the structure
// filter takes nearly everything; whatever gets further still meets the log-prob filter
// (a near-uniform distribution over 262k tokens gives about -12 per token).
TEST(GarbageModel, SynthQueriesRejectsGarbageWithReasonsAndCompletes) {
  test::TempDir dir;
  const fs::path model = random_model(dir.path());
  const fs::path corpus = korquad_corpus(dir.path(), 10);
  const std::vector<std::string> templates = {
      prompt_path("ko_keyword.toml"), prompt_path("ko_question.toml"),
      prompt_path("en_keyword.toml"), prompt_path("ko_en_mixed.toml")};
  const auto args = queries_args(model, corpus, dir / "out", templates);
  const test::CommandResult r = test::run_cli(args);
  const json funnel = check_run(r, dir / "out", "synth-queries");
  EXPECT_GE(funnel["input"].get<std::size_t>(), 40u);  // 10 passages x 4 generations
  EXPECT_EQ(funnel["passed"], 0) << funnel.dump();
  EXPECT_GT(funnel["by_filter"]["structure"].get<std::size_t>(), 20u) << funnel.dump();
  for (const json& rej : read_jsonl(dir / "out" / "rejections.jsonl")) {
    if (rej["filter"] == "structure") {
      EXPECT_NE(rej["reason"].get<std::string>().find("JSON"), std::string::npos) << rej.dump();
    }
  }

  // A rerun takes every generation from the cache and ends with the same funnel.
  const test::CommandResult again = test::run_cli(args);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out), funnel);
  EXPECT_EQ(json::parse(
                test::read_file(dir / "out" / "manifest.json"))["stats"]["generation"]["generated"],
            0);
}

// A plain-line template: every non-empty first line parses, so the garbage reaches the content
// filters, which must say why each one goes.
TEST(GarbageModel, LineOutputGarbageMeetsTheContentFilters) {
  test::TempDir dir;
  const fs::path model = random_model(dir.path());
  const fs::path corpus = korquad_corpus(dir.path(), 10);
  const fs::path tmpl = test::write_file(dir / "ko_line.toml", R"(name = "ko_line"
style = "keyword"
language = "ko"
output = "line"
queries_per_prompt = 1
num_examples = 2
max_tokens = 12
stop = ["\n"]
response_prefix = ""
example = '''문서: {passage}
검색어: {query}'''
example_separator = "\n\n"
prompt = '''
다음은 문서와 그 문서를 찾는 짧은 한국어 검색어의 예입니다.

{examples}

문서: {document}
검색어: '''

[[examples]]
passage = "세종대왕은 1443년 훈민정음을 창제하고 1446년에 이를 반포하였다."
query = "훈민정음 창제 반포 연도"

[[examples]]
passage = "서울 지하철 9호선은 개화역에서 중앙보훈병원역까지 운행한다."
query = "9호선 급행 정차역"
)");
  // English, 4 tokens: short enough that some all-Latin garbage gets past the script filter.
  const fs::path en = test::write_file(dir / "en_line.toml", R"(name = "en_line"
style = "english"
language = "en"
output = "line"
queries_per_prompt = 1
num_examples = 1
max_tokens = 4
stop = ["\n"]
response_prefix = ""
example = '''Document: {passage}
Query: {query}'''
example_separator = "\n\n"
prompt = '''
Documents and short English search queries that find them.

{examples}

Document: {document}
Query: '''

[[examples]]
passage = "세종대왕은 1443년 훈민정음을 창제하고 1446년에 이를 반포하였다."
query = "Hunminjeongeum creation year"
)");
  const test::CommandResult r =
      test::run_cli(queries_args(model, corpus, dir / "out", {tmpl.string(), en.string()}));
  const json funnel = check_run(r, dir / "out", "synth-queries");
  EXPECT_GE(funnel["input"].get<std::size_t>(), 40u);
  EXPECT_EQ(funnel["passed"], 0) << funnel.dump();
  // Content filters, not only the parser, did the rejecting.
  std::size_t content = 0;
  for (const char* f : {"length", "script", "copy", "logprob"}) {
    content += funnel["by_filter"][f].get<std::size_t>();
  }
  EXPECT_GT(content, funnel["input"].get<std::size_t>() / 2) << funnel.dump();
  EXPECT_GT(funnel["by_filter"]["script"].get<std::size_t>(), 0u) << funnel.dump();
  // Garbage that looks like an English query is caught by its log-probability (about -12 per
  // token from a near-uniform distribution over 262k tokens).
  EXPECT_GT(funnel["by_filter"]["logprob"].get<std::size_t>(), 0u) << funnel.dump();
  for (const json& rej : read_jsonl(dir / "out" / "rejections.jsonl")) {
    const std::string reason = rej["reason"];
    if (rej["filter"] == "structure") {
      EXPECT_EQ(reason, "empty output") << rej.dump();
    }
    if (rej["filter"] == "script") {
      EXPECT_NE(reason.find("Hangul"), std::string::npos) << reason;
    }
  }
}

// The rewrite path (query -> pseudo-document) on the same garbage model.
TEST(GarbageModel, SynthDocsRejectsGarbagePassagesAndCompletes) {
  test::TempDir dir;
  const fs::path model = random_model(dir.path());
  const fs::path queries = test::write_file(
      dir / "queries.jsonl",
      "{\"_id\": \"q1\", \"text\": \"훈민정음은 언제 반포되었나\"}\n"
      "{\"_id\": \"q2\", \"text\": \"서울 지하철 9호선 급행 정차역\"}\n"
      "{\"_id\": \"q3\", \"text\": \"BERT 모델 학습 방법\"}\n"
      "{\"_id\": \"q4\", \"text\": \"김장 문화 유네스코 등재 연도\"}\n"
      "{\"_id\": \"q5\", \"text\": \"기준금리 인상이 대출 이자에 미치는 영향\"}\n");
  const fs::path out = dir / "out";
  const test::CommandResult r = test::run_cli({"synth",         "docs",
                                               "--model",       model.string(),
                                               "--queries",     queries.string(),
                                               "--out",         out.string(),
                                               "--templates",   prompt_path("query_to_doc.toml"),
                                               "--per-doc",     "2",
                                               "--seed",        "3",
                                               "--parallel",    "4",
                                               "--threads",     "2",
                                               "--ctx-per-seq", "1024",
                                               "--json"});
  const json funnel = check_run(r, out, "synth-docs");
  EXPECT_EQ(funnel["input"], 10);
  EXPECT_EQ(funnel["passed"], 0) << funnel.dump();
  EXPECT_TRUE(fs::exists(out / "corpus.jsonl"));
  EXPECT_EQ(read_jsonl(out / "corpus.jsonl").size(), 0u);
}

}  // namespace
}  // namespace ksparse::synth
