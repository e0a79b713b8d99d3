// The encoder stages of `ksparse run` without the LLM: train_real + eval_real on a tiny KorQuAD
// slice (the real train questions only), caching through the shared [train] / [sparse] tables,
// eval numbers equal to evaluating the run files, config errors naming file:line.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/config.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/eval/fusion.h"
#include "ksparse/eval/metrics.h"
#include "ksparse/pipeline/runner.h"
#include "ksparse/pipeline/stages.h"

namespace ksparse::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The first 8 articles of the real KorQuAD dev set, 2 paragraphs each.
fs::path tiny_korquad(const fs::path& dir) {
  std::ifstream in(test::shared_data("korquad-v1/KorQuAD_v1.0_dev.json"));
  json j = json::parse(in);
  json data = json::array();
  for (std::size_t a = 0; a < 8 && a < j["data"].size(); ++a) {
    json art = j["data"][a];
    json ps = json::array();
    for (std::size_t p = 0; p < 2 && p < art["paragraphs"].size(); ++p) {
      ps.push_back(art["paragraphs"][p]);
    }
    art["paragraphs"] = ps;
    data.push_back(art);
  }
  j["data"] = data;
  return test::write_file(dir / "korquad_tiny.json", j.dump());
}

// fusion_weight: the TOML value as written (a number or "\"auto\"").
std::string config(const fs::path& korquad, int max_steps, const std::string& fusion_weight) {
  return "threads = 2\n[data]\nkorquad = \"" + korquad.string() +
         "\"\nsplit_articles = 0.5\n[bm25]\nk = 20\n"
         "[train]\nvocab_size = 400\nhidden_size = 64\nnum_layers = 1\nnum_heads = 2\n"
         "intermediate_size = 128\nmax_length = 64\nbatch_size = 4\nmax_steps = " +
         std::to_string(max_steps) +
         "\nwarmup_steps = 2\nflops_warmup_steps = 4\neval_every = 4\ncheckpoint_every = 2\n"
         "log_every = 2\nvalidation_fraction = 0.2\n"
         "[sparse]\nk = 20\nfusion_weight = " +
         fusion_weight + "\n";
}

std::vector<json> read_jsonl_lines(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::map<std::string, std::string> run(const ConfigTable& cfg, const fs::path& out) {
  Pipeline p;
  register_workflow(p);
  RunOptions o;
  o.out_dir = out;
  o.stages = {"data", "bm25", "train_real", "eval_real"};
  std::map<std::string, std::string> s;
  for (const auto& st : p.run(cfg, o).stages) s[st.name] = st.status;
  return s;
}

class EncoderStages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!workflow_has_encoder()) GTEST_SKIP() << "this build has no libtorch (KSPARSE_WITH_TORCH=OFF)";
  }
};

TEST_F(EncoderStages, TrainEvalCacheAndNumbersMatchTheRunFiles) {
  test::TempDir dir;
  const fs::path korquad = tiny_korquad(dir.path());
  const fs::path out = dir / "out";
  auto s1 = run(parse_config(config(korquad, 6, "0.5")), out);
  EXPECT_EQ(s1.at("train_real"), "ran");
  EXPECT_EQ(s1.at("eval_real"), "ran");
  EXPECT_EQ(s1.at("synth"), "disabled");  // not selected

  // The model folder without checkpoints; the checkpoints stay in the work dir.
  EXPECT_TRUE(fs::exists(out / "train_real/model/model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "train_real/model/idf.json"));
  EXPECT_TRUE(fs::exists(out / "train_real/model/loss_curve.jsonl"));
  EXPECT_FALSE(fs::exists(out / "train_real/model/checkpoints"));
  const auto m = read_stage_manifest(out, "train_real");
  ASSERT_TRUE(m.has_value());
  const json& st = (*m)["stats"]["stage"];
  EXPECT_EQ(st["steps"].get<int>(), 6);
  EXPECT_EQ(st["resumed_from"].get<int>(), -1);
  EXPECT_EQ(st["synthetic_available"].get<int>(), 0);
  EXPECT_GT(st["real_triples"].get<int>(), 0);
  EXPECT_TRUE(fs::exists(fs::path(st["checkpoint_dir"].get<std::string>()) / "latest.json"));
  EXPECT_EQ((*m)["config"]["train"]["synthetic_per_real"].get<double>(), 0.0);

  // eval_real's metrics are the metrics of its run files against the held-out qrels.
  const Qrels qrels = read_qrels(out / "data/korquad/qrels/test.tsv");
  const auto metrics = parse_metrics("ndcg@10,mrr@10,recall@100");
  const json mj = json::parse(test::read_file(out / "eval_real/metrics.json"));
  const EvalResult sparse = evaluate(qrels, read_trec_run(out / "eval_real/run.trec"), metrics);
  EXPECT_NEAR(mj["mean"]["ndcg@10"].get<double>(), sparse.mean[0], 1e-12);
  EXPECT_GT(sparse.query_ids.size(), 0u);
  // The fusion run is `fuse_runs` of the BM25 and sparse run files (linear, half each).
  FusionOptions fo;
  fo.method = FusionMethod::kLinear;
  fo.weights = {0.5, 0.5};
  fo.k = 20;
  const ksparse::Run fused = fuse_runs({read_trec_run(out / "bm25/run.trec"),
                               read_trec_run(out / "eval_real/run.trec")},
                              fo);
  const EvalResult f1 = evaluate(qrels, fused, metrics);
  const EvalResult f2 = evaluate(qrels, read_trec_run(out / "eval_real/fusion/run.trec"), metrics);
  for (std::size_t i = 0; i < metrics.size(); ++i) EXPECT_NEAR(f1.mean[i], f2.mean[i], 1e-9);

  // Nothing changed: everything skipped.
  auto s2 = run(parse_config(config(korquad, 6, "0.5")), out);
  for (const char* n : {"data", "bm25", "train_real", "eval_real"}) EXPECT_EQ(s2.at(n), "skipped");
  // Only [sparse] changed: the model is reused, the evaluation reruns.
  auto s3 = run(parse_config(config(korquad, 6, "0.3")), out);
  EXPECT_EQ(s3.at("train_real"), "skipped");
  EXPECT_EQ(s3.at("eval_real"), "ran");
  // [train] changed: a fresh checkpoint directory (not a resume of the other settings' one).
  auto s4 = run(parse_config(config(korquad, 8, "0.3")), out);
  EXPECT_EQ(s4.at("bm25"), "skipped");
  EXPECT_EQ(s4.at("train_real"), "ran");
  EXPECT_EQ(s4.at("eval_real"), "ran");
  const auto m4 = read_stage_manifest(out, "train_real");
  EXPECT_EQ((*m4)["stats"]["stage"]["resumed_from"].get<int>(), -1);
  EXPECT_EQ((*m4)["stats"]["stage"]["steps"].get<int>(), 8);
  std::size_t run_dirs = 0;
  for (const auto& e : fs::directory_iterator(out / ".work/train_real")) {
    run_dirs += e.is_directory() && e.path().filename().string().rfind("run-", 0) == 0;
  }
  EXPECT_EQ(run_dirs, 1u);  // the other settings' checkpoints were dropped

  // "auto": the sparse weight is the best of the grid on the training split's validation
  // questions (held out from training), and the fusion run uses it.
  auto s5 = run(parse_config(config(korquad, 8, "\"auto\"")), out);
  EXPECT_EQ(s5.at("train_real"), "skipped");
  EXPECT_EQ(s5.at("eval_real"), "ran");
  const json tu = (*read_stage_manifest(out, "eval_real"))["stats"]["stage"]["fusion_tuning"];
  ASSERT_EQ(tu["curve"].size(), 21u) << tu.dump();
  EXPECT_GT(tu["queries"].get<int>(), 0);
  // ... exactly the queries the trainer validated on, none of them a test question.
  const auto trained = read_stage_manifest(out, "train_real");
  EXPECT_EQ(tu["queries"], (*trained)["stats"]["stage"]["valid_queries"]);
  for (const Query& q : read_queries(out / "train_real/model/validation/queries.jsonl")) {
    EXPECT_EQ(qrels.count(q.id), 0u) << q.id;
  }
  double best = -1.0, best_w = -1.0;
  for (const json& point : tu["curve"]) {
    if (point["ndcg@10"].get<double>() > best) {
      best = point["ndcg@10"].get<double>();
      best_w = point["weight"].get<double>();
    }
  }
  EXPECT_EQ(tu["chosen_weight"].get<double>(), best_w);
  EXPECT_EQ(tu["validation_value"].get<double>(), best);
  fo.weights = {1.0 - best_w, best_w};
  const EvalResult tuned = evaluate(qrels,
                                    fuse_runs({read_trec_run(out / "bm25/run.trec"),
                                               read_trec_run(out / "eval_real/run.trec")},
                                              fo),
                                    metrics);
  const EvalResult written =
      evaluate(qrels, read_trec_run(out / "eval_real/fusion/run.trec"), metrics);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    EXPECT_NEAR(tuned.mean[i], written.mean[i], 1e-9);
  }
}

// `[synth] import`: the synthetic triples of a `ksparse synth queries` directory whose positive is
// a KorQuAD passage, with that run's funnel; a real triple among them is an error.
TEST(SynthImport, KeepsCorpusPositivesAndTheFunnel) {
  test::TempDir dir;
  const fs::path korquad = tiny_korquad(dir.path());
  const fs::path from = dir / "synth-run";
  auto triple = [](const std::string& q, const std::string& doc, const std::string& source) {
    return json{{"query", q}, {"query_id", "syn-" + doc + "-" + q.substr(0, 3)},
                {"positive_id", doc}, {"negative_ids", json::array()}, {"source", source}}
        .dump();
  };
  test::write_file(from / "triples.jsonl", triple("첫 질문", "kq-0-0", "synthetic") + "\n" +
                                               triple("둘째 질문", "kq-1-1", "synthetic") + "\n" +
                                               triple("뉴스 질문", "d000001", "synthetic") + "\n");
  const json funnel = {{"input", 5}, {"passed", 3}, {"by_filter", {{"structure", 2}}},
                       {"order", {"structure"}}};
  test::write_file(from / "manifest.json",
                   json{{"config", {{"model", "m.gguf sha256:00"}}},
                        {"stats", {{"funnel", funnel}, {"generation", {{"requests", 5}}}}}}
                       .dump());
  const std::string base = "threads = 2\n[data]\nkorquad = \"" + korquad.string() +
                           "\"\nsplit_articles = 0.5\n[synth]\nimport = \"" + from.string() +
                           "\"\n";
  Pipeline p;
  register_workflow(p);
  RunOptions o;
  o.out_dir = dir / "out";
  o.stages = {"data", "synth"};
  for (const auto& st : p.run(parse_config(base), o).stages) {
    if (st.name == "synth") {
      EXPECT_EQ(st.status, "ran");
    }
  }
  const auto kept = read_jsonl_lines(dir / "out/synth/queries/triples.jsonl");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]["positive_id"], "kq-0-0");
  EXPECT_EQ(kept[1]["positive_id"], "kq-1-1");
  const json st = (*read_stage_manifest(dir / "out", "synth"))["stats"]["stage"];
  EXPECT_EQ(st["dropped_outside_corpus"], 1);
  EXPECT_EQ(st["triples"], 2);
  EXPECT_EQ(st["documents"], 2);
  EXPECT_EQ(st["funnel"], funnel);
  EXPECT_EQ(st["model"], "m.gguf sha256:00");

  // A real triple is refused, naming the file; a directory without a manifest is a config error.
  test::write_file(from / "triples.jsonl", triple("진짜 질문", "kq-0-0", "real") + "\n");
  EXPECT_THROW(p.run(parse_config(base), o), DataError);
  fs::remove(from / "manifest.json");
  try {
    p.run(parse_config(base), o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("manifest.json is missing"), std::string::npos) << e.what();
  }
}

TEST_F(EncoderStages, ConfigErrorsNameFileAndLine) {
  test::TempDir dir;
  const fs::path korquad = tiny_korquad(dir.path());
  auto expect_error_at = [&](const std::string& extra, const std::string& where) {
    const fs::path cfg =
        test::write_file(dir / "bad.toml", "[data]\nkorquad = \"" + korquad.string() + "\"\n" + extra);
    try {
      run(load_config(cfg), dir / "out");
      FAIL() << "no error for " << extra;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.toml:" + where), std::string::npos) << e.what();
    }
  };
  expect_error_at("[train]\nmax_step = 3\n", "4");          // unknown TrainOptions field
  expect_error_at("[sparse]\nk = 10\nfusion = \"max\"\n", "5");  // unknown fusion method
  expect_error_at("[sparse]\nfusion_weight = 1.5\n", "4");
  expect_error_at("[sparse]\nfusion_weight = \"best\"\n", "4");
  expect_error_at("[train_real]\nsynthetic_per_real = 1.0\n", "4");  // only train_synth mixes
}

}  // namespace
}  // namespace ksparse::pipeline
