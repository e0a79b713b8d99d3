// `ksparse run` end to end on a tiny config with the real small GGUF: caching, selective reruns,
// kill -9 resumption.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/test_util.h"
#include "ksparse/synth/cache.h"

namespace ksparse {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// A KorQuAD-format file with the first `articles` articles of the real dev set, `paragraphs`
// paragraphs each.
fs::path tiny_korquad(const fs::path& dir, std::size_t articles, std::size_t paragraphs) {
  std::ifstream in(test::shared_data("korquad-v1/KorQuAD_v1.0_dev.json"));
  json j = json::parse(in);
  json data = json::array();
  for (std::size_t a = 0; a < articles && a < j["data"].size(); ++a) {
    json art = j["data"][a];
    json ps = json::array();
    for (std::size_t p = 0; p < paragraphs && p < art["paragraphs"].size(); ++p) {
      ps.push_back(art["paragraphs"][p]);
    }
    art["paragraphs"] = ps;
    data.push_back(art);
  }
  j["data"] = data;
  return test::write_file(dir / "korquad_tiny.json", j.dump());
}

// A tiny encoder (1 layer, hidden 64, ~1k WordPieces): trains in about a second on 2 cores.
std::string tiny_train(int max_steps) {
  return "[train]\nvocab_size = 400\nhidden_size = 64\nnum_layers = 1\nnum_heads = 2\n"
         "intermediate_size = 128\nmax_length = 64\nbatch_size = 4\nmax_steps = " +
         std::to_string(max_steps) +
         "\nwarmup_steps = 2\nflops_warmup_steps = 4\neval_every = 4\ncheckpoint_every = 2\n"
         "log_every = 2\nvalidation_fraction = 0.2\n[sparse]\nk = 20\n";
}

std::string tiny_config(const fs::path& dir, int synth_seed, int train_steps = 8) {
  const fs::path korquad = tiny_korquad(dir, 6, 2);
  test::write_file(dir / "seed.tsv",
                   "컴퓨터\tcomputer\n데이터\tdata\n네트워크\tnetwork\n프로그램\tprogram\n"
                   "서버\tserver\n인터넷\tinternet\n소프트웨어\tsoftware\n게임\tgame\n");
  test::write_file(dir / "news.csv",
                   "date,title,text\n"
                   "2010-01-01,가,서울 시장 선거 후보 토론\n2010-02-01,나,서울 시장 선거 결과\n"
                   "2011-01-01,다,태풍 피해 복구 지원\n2011-03-01,라,태풍 경보 발령 태풍 북상\n");
  std::string cfg;
  cfg += "out = \"" + (dir / "out").string() + "\"\n";
  cfg += "threads = 2\n";
  cfg += "[llm]\nmodel = \"" + test::test_model().string() + "\"\n";
  cfg += "parallel = 2\nctx_per_seq = 2048\nthreads = 2\ngpu_layers = 0\n";
  cfg += "[data]\nkorquad = \"" + korquad.string() + "\"\nsplit_articles = 0.5\n";
  cfg += "news = \"" + (dir / "news.csv").string() + "\"\n";
  cfg += "news_text_col = \"text\"\nnews_title_col = \"title\"\nnews_date_col = \"date\"\n";
  cfg += "[bm25]\nk = 20\n";
  cfg +=
      "[synth]\nper_doc = 1\nlimit = 3\nbatch_size = 1\nmax_doc_chars = 200\nmax_example_chars = "
      "150\n";
  cfg += "templates = [\"" +
         (fs::path(KSPARSE_SOURCE_DIR) / "configs/prompts/ko_keyword.toml").string() + "\"]\n";
  cfg += "seed = " + std::to_string(synth_seed) + "\n";
  cfg += "[trends]\nmin_count = 1\nmin_docs = 1\nmin_g2 = 0.0\n";
  cfg += "[synonyms]\nlexicon = \"" + (dir / "seed.tsv").string() + "\"\n";
  cfg += "verify_max = 12\ndiscover_max_terms = 2\nreason_tokens = 2\nembed_max_ko = 20\n";
  cfg += "[ablations]\ntrials = 200\n";
  cfg += tiny_train(train_steps);
  return cfg;
}

std::map<std::string, std::string> statuses(const test::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> s;
  const json j = json::parse(r.out);
  for (const auto& st : j["stages"]) s[st["name"]] = st["status"];
  return s;
}

std::set<std::string> ran(const std::map<std::string, std::string>& s) {
  std::set<std::string> out;
  for (const auto& [name, status] : s) {
    if (status == "ran") out.insert(name);
  }
  return out;
}

const std::set<std::string> kAllStages = {
    "data",        "bm25",      "synth",      "trends", "synonyms",  "expansion", "train_real",
    "train_synth", "eval_real", "eval_synth", "export", "ablations", "report"};

TEST(RunModel, SecondRunSkipsAndSynthChangeRerunsOnlyDependants) {
  test::TempDir dir;
  const fs::path cfg = test::write_file(dir / "tiny.toml", tiny_config(dir.path(), 1));
  const auto first = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(ran(first), kAllStages);
  ASSERT_TRUE(fs::exists(dir / "out/report/report.html"));
  ASSERT_TRUE(fs::exists(dir / "out/synth/queries/triples.jsonl"));
  const std::string report = test::read_file(dir / "out/report/report.html");
  EXPECT_NE(report.find("Filter funnel"), std::string::npos);
  const std::string md = test::read_file(dir / "out/report/report.md");
  EXPECT_NE(md.find("## Synthetic queries"), std::string::npos);
  EXPECT_NE(md.find("## Sparse encoder training"), std::string::npos);
  EXPECT_NE(md.find("## OpenSearch export"), std::string::npos);
  EXPECT_NE(report.find("<polyline"), std::string::npos);  // loss curves
  // The ablation table holds both models, both fusions and the with/without-synthetic test.
  const json abl = json::parse(test::read_file(dir / "out/ablations/ablations.json"));
  std::set<std::string> systems;
  for (const auto& s : abl["systems"]) systems.insert(s["name"].get<std::string>());
  EXPECT_EQ(systems,
            (std::set<std::string>{"bm25", "expansion", "expansion_unverified", "sparse_real",
                                   "sparse_synth", "fusion_real", "fusion_synth"}));
  // Synonyms: the LLM-verified dictionary (used downstream) and the unverified one, each
  // evaluated and expanded; the ablation compares the two expansions.
  const json syn = json::parse(test::read_file(dir / "out/synonyms/manifest.json"));
  const json& syn_stats = syn["stats"]["stage"];
  EXPECT_NE(syn_stats["verifier"].get<std::string>().find("gemma-3-270m"), std::string::npos)
      << syn_stats.dump();
  EXPECT_GT(syn_stats["candidates_verified"].get<int>(), 0) << syn_stats.dump();
  EXPECT_LE(syn_stats["candidates_verified"].get<int>(), 12);
  EXPECT_GT(syn_stats["verify_pairs_per_s"].get<double>(), 0.0);
  // Only verified pairs enter: the verified dictionary is no larger than seed + verified.
  EXPECT_LE(syn_stats["entries"].get<int>(),
            syn_stats["seed_pairs"].get<int>() + syn_stats["candidates_verified"].get<int>());
  EXPECT_GE(syn_stats["unverified"]["entries"].get<int>(), syn_stats["seed_pairs"].get<int>());
  for (const char* f : {"out/synonyms/dict/synonyms.txt", "out/synonyms/dict/verdicts.jsonl",
                        "out/synonyms/dict_unverified/synonyms.txt",
                        "out/synonyms/eval_unverified.json", "out/expansion/unverified/run.trec"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  EXPECT_EQ(test::read_file(dir / "out/synonyms/dict/verdicts.jsonl").empty(), false);
  bool verification_ablation = false;
  for (const auto& c : abl["comparisons"]) {
    verification_ablation |= c["a"] == "expansion_unverified" && c["b"] == "expansion";
  }
  EXPECT_TRUE(verification_ablation);
  EXPECT_NE(md.find("LLM-verified"), std::string::npos);
  EXPECT_GT(syn_stats["llm_cache"]["misses"].get<int>(), 0);
  bool with_vs_without = false;
  for (const auto& c : abl["comparisons"]) {
    if (c["a"] == "sparse_real" && c["b"] == "sparse_synth" && c["metric"] == "ndcg@10") {
      with_vs_without = true;
      EXPECT_GE(c["p_value"].get<double>(), 0.0);
      EXPECT_LE(c["p_value"].get<double>(), 1.0);
      EXPECT_GT(c["n"].get<int>(), 0);
    }
  }
  EXPECT_TRUE(with_vs_without);
  // The table's numbers are those of the run files (what `ksparse eval` reports).
  const auto ev =
      test::run_cli({"eval", "--qrels", (dir / "out/data/korquad/qrels/test.tsv").string(), "--run",
                     (dir / "out/eval_synth/run.trec").string(), "--metrics", "ndcg@10", "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  for (const auto& s : abl["systems"]) {
    if (s["name"] != "sparse_synth") continue;
    EXPECT_NEAR(json::parse(ev.out)["ndcg@10"].get<double>(), s["metrics"]["ndcg@10"].get<double>(),
                1e-9);
  }
  ASSERT_TRUE(fs::exists(dir / "out/export/opensearch/bulk.jsonl"));
  ASSERT_TRUE(fs::exists(dir / "out/export/opensearch/model/model.safetensors"));
  ASSERT_TRUE(fs::exists(dir / "out/train_synth/model/loss_curve.jsonl"));
  EXPECT_FALSE(fs::exists(dir / "out/train_synth/model/checkpoints"));

  const auto t0 = std::chrono::steady_clock::now();
  const auto second = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(ran(second).empty());
  for (const auto& [name, status] : second) EXPECT_EQ(status, "skipped") << name;
  EXPECT_LT(secs, 30.0);  // nothing is recomputed (the GGUF hash is cached too)

  // Only the synthetic-generation settings change: synth and what reads it rerun.
  test::write_file(cfg, tiny_config(dir.path(), 2));
  const auto third = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(ran(third), (std::set<std::string>{"synth", "train_synth", "eval_synth", "export",
                                               "ablations", "report"}));
  for (const char* st : {"data", "bm25", "train_real", "eval_real", "synonyms", "expansion"}) {
    EXPECT_EQ(third.at(st), "skipped") << st;
  }

  // Rerunning the stage (as after a kill) asks the model nothing: every judgement is in the
  // stage's generation cache, and the dictionary is the same.
  const auto forced =
      test::run_cli({"run", cfg.string(), "--only", "synonyms", "--force", "--json"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  const json syn2 = json::parse(test::read_file(dir / "out/synonyms/manifest.json"));
  EXPECT_EQ(syn2["stats"]["stage"]["llm_cache"]["misses"].get<int>(), 0)
      << syn2["stats"]["stage"].dump();
  EXPECT_GT(syn2["stats"]["stage"]["llm_cache"]["hits"].get<int>(), 0);
  EXPECT_EQ(syn2["stats"]["stage"]["entries"], syn_stats["entries"]);
}

TEST(RunModel, KillDuringSynthResumesWithoutRedoingFinishedWork) {
  test::TempDir dir;
  const fs::path cfg = test::write_file(dir / "tiny.toml", tiny_config(dir.path(), 1));
  const fs::path cache = dir / "out/.work/synth/cache.sqlite";
  // Kill -9 once the first generation batch is committed to the cache.
  const bool killed = test::kill_program_when(
      {test::cli_path().string(), "run", cfg.string()},
      [&] {
        if (!fs::exists(cache)) return false;
        try {
          return synth::GenerationCache(cache, 100).size() >= 1;
        } catch (const std::exception&) {
          return false;  // locked or not yet initialised: try again
        }
      },
      std::chrono::milliseconds(100), std::chrono::seconds(120));
  ASSERT_TRUE(killed) << "the run finished or never reached the synth stage";
  EXPECT_FALSE(fs::exists(dir / "out/synth"));  // no half-written artifact
  ASSERT_TRUE(fs::exists(dir / "out/data/manifest.json"));
  const std::string data_manifest = test::read_file(dir / "out/data/manifest.json");

  const auto resumed = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(resumed.at("data"), "skipped");
  EXPECT_EQ(resumed.at("bm25"), "skipped");
  EXPECT_EQ(resumed.at("synth"), "ran");
  EXPECT_EQ(test::read_file(dir / "out/data/manifest.json"), data_manifest);
  // The synth stage took the killed run's generations from its cache.
  const json m = json::parse(test::read_file(dir / "out/synth/manifest.json"));
  EXPECT_GE(m["stats"]["stage"]["generation"]["cached"].get<int>(), 1);
  EXPECT_TRUE(fs::exists(dir / "out/report/report.html"));
}

TEST(RunModel, KillDuringTrainingResumesFromTheLastCheckpoint) {
  test::TempDir dir;
  // Enough steps that the kill lands mid-training (checkpoints every 2 steps).
  const fs::path cfg = test::write_file(dir / "tiny.toml", tiny_config(dir.path(), 1, 150));
  // Wait for a committed checkpoint of train_real (OUT/.work/train_real/run-*/model/checkpoints).
  auto checkpoint_step = [&]() -> int {
    const fs::path work = dir / "out/.work/train_real";
    if (!fs::exists(work)) return -1;
    for (const auto& e : fs::directory_iterator(work)) {
      const fs::path latest = e.path() / "model/checkpoints/latest.json";
      if (e.is_directory() && fs::exists(latest)) {
        try {
          return json::parse(test::read_file(latest))["step"].get<int>();
        } catch (const std::exception&) {
          return -1;
        }
      }
    }
    return -1;
  };
  const bool killed = test::kill_program_when(
      {test::cli_path().string(), "run", cfg.string()}, [&] { return checkpoint_step() >= 2; },
      std::chrono::milliseconds(50), std::chrono::seconds(300));
  ASSERT_TRUE(killed) << "the run finished or never reached train_real";
  const int at_kill = checkpoint_step();
  ASSERT_GE(at_kill, 2);
  ASSERT_LT(at_kill, 150) << "training had already finished";
  EXPECT_FALSE(fs::exists(dir / "out/train_real"));  // no half-written artifact
  ASSERT_TRUE(fs::exists(dir / "out/synth/manifest.json"));

  const auto resumed = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  for (const char* st : {"data", "bm25", "synth", "trends", "synonyms", "expansion"}) {
    EXPECT_EQ(resumed.at(st), "skipped") << st;
  }
  EXPECT_EQ(resumed.at("train_real"), "ran");
  const json m = json::parse(test::read_file(dir / "out/train_real/manifest.json"));
  const json& st = m["stats"]["stage"];
  EXPECT_GE(st["resumed_from"].get<int>(), at_kill);  // later checkpoints may land before the kill
  EXPECT_GE(st["resumed_from"].get<int>(), 2);
  EXPECT_EQ(st["steps"].get<int>(), 150);
  EXPECT_TRUE(fs::exists(dir / "out/report/report.html"));
  EXPECT_NE(test::read_file(dir / "out/report/report.md").find("resumed"), std::string::npos);
}

}  // namespace
}  // namespace ksparse
