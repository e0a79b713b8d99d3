// Stages `train_real` / `train_synth` (the sparse encoder without / with the synthetic triples),
// `eval_real` / `eval_synth` (impact index over every passage, held-out queries, BM25 + sparse
// fusion) and `export` (OpenSearch export of the with-synthetic model). Built with libtorch only.
//
// Both trainings read the shared `[train]` table (TrainOptions field for field), so the ablation
// differs only in the training data; `[train_synth] synthetic_per_real` sets the mix
// (synth::merge_triples inside the trainer). Encoding, search and fusion settings come from the
// shared `[sparse]` table, so both models are evaluated the same way.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/io.h"
#include "ksparse/encoder/opensearch_export.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/encoder/sparse_index.h"
#include "ksparse/encoder/trainer.h"
#include "ksparse/eval/fusion.h"
#include "ksparse/eval/metrics.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synth/triples.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The shared [train] table plus the stage's own overrides. The trainer always resumes: the stage
// keeps its checkpoints in its work dir, so a killed run continues from the newest one.
TrainOptions train_options(const ConfigTable& section, const ConfigTable& root, bool synthetic) {
  if (synthetic) {
    section.expect_keys({"enabled", "synthetic_per_real", "exclude_validation_docs"});
  } else {
    section.expect_keys({"enabled"});
  }
  const ConfigTable t = root.table("train");
  TrainOptions o = train_options_from(t);
  if (!t.contains("threads")) o.threads = static_cast<int>(detail::threads_from(root));
  o.synthetic_per_real =
      synthetic ? section.get("synthetic_per_real", o.synthetic_per_real) : 0.0;
  if (synthetic) {
    o.exclude_validation_docs =
        section.get("exclude_validation_docs", o.exclude_validation_docs);
  }
  o.resume = true;
  try {
    o.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(t.where() + ": [train]: " + e.what());
  }
  return o;
}

void copy_model_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    if (e.path().filename() == "checkpoints") continue;  // resumable state stays in the work dir
    fs::copy(e.path(), to / e.path().filename(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
}

// Summary of a loss curve: first and last logged loss, validation points.
json curve_summary(const fs::path& curve) {
  std::ifstream in(curve);
  std::string line;
  json first, last;
  std::size_t rows = 0, evals = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json row = json::parse(line);
    if (row.contains("loss")) {
      if (first.is_null()) first = row["loss"];
      last = row["loss"];
      ++rows;
    } else if (row.contains("valid_ndcg@10")) {
      ++evals;
    }
  }
  return {{"logged_steps", rows}, {"evaluations", evals}, {"first_loss", first}, {"last_loss", last}};
}

StageSpec train_stage(bool synthetic) {
  StageSpec s;
  s.name = synthetic ? "train_synth" : "train_real";
  s.description = synthetic ? "sparse encoder on real + synthetic training triples"
                            : "sparse encoder on the real training questions only";
  s.deps = synthetic ? std::vector<std::string>{"data", "synth"} : std::vector<std::string>{"data"};
  s.version = 2;  // 2: the model folder carries the validation queries (fusion weight tuning)
  s.plan = [synthetic](const ConfigTable& t, const ConfigTable& root) {
    const TrainOptions o = train_options(t, root, synthetic);
    StagePlan p;
    p.config = {{"train", o.to_json()}, {"data", synthetic ? "real+synthetic" : "real"}};
    return p;
  };
  s.run = [synthetic](StageContext& ctx) {
    const TrainOptions o = train_options(ctx.section(), ctx.root(), synthetic);
    const fs::path data = ctx.input("data");
    const fs::path corpus = data / "korquad" / "corpus.jsonl";
    std::vector<synth::Triple> triples = synth::read_triples(data / "train_triples.jsonl");
    const std::size_t real = triples.size();
    std::size_t synthetic_available = 0;
    if (synthetic) {
      std::vector<synth::Triple> syn =
          synth::read_triples(ctx.input("synth") / "queries" / "triples.jsonl");
      synthetic_available = syn.size();
      triples.insert(triples.end(), std::make_move_iterator(syn.begin()),
                     std::make_move_iterator(syn.end()));
    }
    const fs::path triples_file = ctx.work_dir() / "triples.jsonl";
    synth::write_triples(triples_file, triples);
    // Checkpoints live under a directory named by everything that decides the training (options,
    // triples, corpus): the trainer cannot tell a checkpoint of other settings from its own, so a
    // changed config must start a fresh directory rather than resume a foreign one.
    const std::string run_key =
        sha256_hex(ctx.config().dump() + sha256_file(triples_file) + sha256_file(corpus))
            .substr(0, 16);
    const fs::path run_dir = ctx.work_dir() / ("run-" + run_key);
    for (const auto& e : fs::directory_iterator(ctx.work_dir())) {
      const std::string n = e.path().filename().string();
      if (e.is_directory() && n.rfind("run-", 0) == 0 && e.path() != run_dir) {
        fs::remove_all(e.path());
      }
    }
    fs::create_directories(run_dir);
    const TrainResult r = train_encoder(triples_file, corpus, run_dir / "model", o);
    copy_model_files(run_dir / "model", ctx.out_dir() / "model");

    ctx.stats = r.to_json();
    ctx.stats["real_triples"] = real;
    ctx.stats["synthetic_available"] = synthetic_available;
    ctx.stats["checkpoint_dir"] = (run_dir / "model" / "checkpoints").string();
    const json tm = detail::read_json(run_dir / "model" / "train_manifest.json");
    if (tm.contains("stats") && tm["stats"].contains("data")) ctx.stats["data"] = tm["stats"]["data"];
    ctx.stats["curve"] = curve_summary(run_dir / "model" / "loss_curve.jsonl");
  };
  return s;
}

struct SparseSettings {
  SparseIndexOptions index;
  std::size_t k = 100;
  std::vector<Metric> metrics;
  FusionOptions fusion;
  // fusion_weight = "auto": the sparse weight is chosen from this grid by the first metric on the
  // training run's validation queries (real questions held out from training), never on the test
  // queries.
  bool tune_weight = false;
};

// The sparse weights fusion_weight = "auto" tries: 0, 0.05, ..., 1.
std::vector<double> fusion_weight_grid() {
  std::vector<double> grid;
  for (int i = 0; i <= 20; ++i) grid.push_back(i / 20.0);
  return grid;
}

// The shared [sparse] table: encoding (pruning), search depth, metrics and BM25 + sparse fusion.
SparseSettings sparse_settings(const ConfigTable& section, const ConfigTable& root) {
  section.expect_keys({"enabled"});
  const ConfigTable t = root.table("sparse");
  t.expect_keys({"top_k", "threshold", "batch_size", "max_length", "index_title", "k", "metrics",
                 "fusion", "fusion_weight", "rrf_k", "fusion_depth"});
  SparseSettings s;
  s.index.encode.top_k = t.get<std::size_t>("top_k", s.index.encode.top_k);
  s.index.encode.threshold = t.get("threshold", s.index.encode.threshold);
  s.index.encode.batch_size = t.get<std::size_t>("batch_size", 32);
  s.index.encode.max_length = t.get<std::size_t>("max_length", s.index.encode.max_length);
  s.index.index_title = t.get("index_title", s.index.index_title);
  const auto k = t.get<std::int64_t>("k", 100);
  if (k < 1) throw ConfigError(t.where("k") + ": `sparse.k` must be >= 1");
  s.k = static_cast<std::size_t>(k);
  s.metrics = detail::metrics_from(t);
  try {
    s.fusion.method = parse_fusion_method(t.get<std::string>("fusion", "linear"));
  } catch (const ConfigError& e) {
    throw ConfigError(t.where("fusion") + ": `sparse.fusion`: " + e.what());
  }
  // Weight of the sparse run (BM25 gets 1 - w), or "auto".
  const json all = t.to_json();
  if (all.contains("fusion_weight") && all["fusion_weight"].is_string()) {
    if (all["fusion_weight"] != "auto") {
      throw ConfigError(t.where("fusion_weight") +
                        ": `sparse.fusion_weight` must be a number in [0, 1] or \"auto\"");
    }
    s.tune_weight = true;
  }
  const double w = s.tune_weight ? 0.5 : t.get("fusion_weight", 0.5);
  if (!(w >= 0.0 && w <= 1.0)) {
    throw ConfigError(t.where("fusion_weight") + ": `sparse.fusion_weight` must be in [0, 1]");
  }
  s.fusion.weights = {1.0 - w, w};
  s.fusion.rrf_k = t.get("rrf_k", s.fusion.rrf_k);
  s.fusion.depth = t.get<std::size_t>("fusion_depth", s.fusion.depth);
  s.fusion.k = s.k;
  try {
    s.index.validate();
    s.fusion.validate(2);
  } catch (const ConfigError& e) {
    throw ConfigError(t.where() + ": [sparse]: " + e.what());
  }
  return s;
}

// The sparse model's run: each query through the model's query side (IDF in doc-only mode), then
// top-k search. `query_terms` (optional) receives the total number of query terms.
Run sparse_run(const InvertedIndex& index, const SparseEncoder& enc,
               const std::vector<Query>& queries, std::size_t k, unsigned threads,
               double* query_terms = nullptr) {
  std::vector<std::string> ids;
  std::vector<SparseVector> vectors;
  for (const Query& q : queries) {
    ids.push_back(q.id);
    vectors.push_back(index_query(index, enc, q.text));
    if (query_terms) *query_terms += static_cast<double>(vectors.back().size());
  }
  return detail::search_run(index, ids, vectors, k, threads);
}

// fusion_weight = "auto": searches the queries the training run held out for validation (written
// by the trainer into MODEL_DIR/validation) with BM25 and the sparse model, and returns the grid
// weight with the best first metric (ties: the smaller sparse weight) with the whole curve.
json tune_fusion_weight(const fs::path& model_dir, const fs::path& bm25_dir,
                        const InvertedIndex& sparse, const SparseEncoder& enc,
                        const SparseSettings& st, unsigned threads) {
  const ValidationSet valid = read_validation_set(model_dir);
  if (valid.queries.empty()) {
    throw ConfigError(
        "[sparse] fusion_weight = \"auto\" tunes on the training validation queries, but there "
        "are none: set [train] validation_fraction > 0 or give a number");
  }
  const InvertedIndex bm25 = open_index_dir(bm25_dir);
  const std::vector<Run> runs = {detail::bm25_run(bm25, valid.queries, st.k, threads),
                                 sparse_run(sparse, enc, valid.queries, st.k, threads)};
  const Metric metric = st.metrics.front();
  json curve = json::array();
  double best_w = 0.0, best = -1.0;
  for (const double w : fusion_weight_grid()) {
    FusionOptions fo = st.fusion;
    fo.weights = {1.0 - w, w};
    const double v = evaluate(valid.qrels, fuse_runs(runs, fo), {metric}).mean.front();
    curve.push_back({{"weight", w}, {metric.name(), v}});
    if (v > best) {
      best = v;
      best_w = w;
    }
  }
  spdlog::info("fusion weight {:.2f} (sparse) chosen on {} validation queries: {} {:.4f}", best_w,
               valid.queries.size(), metric.name(), best);
  return {{"queries", valid.queries.size()},
          {"metric", metric.name()},
          {"curve", curve},
          {"chosen_weight", best_w},
          {"validation_value", best}};
}

StageSpec eval_stage(bool synthetic) {
  const std::string variant = synthetic ? "synth" : "real";
  const std::string train = "train_" + variant;
  StageSpec s;
  s.name = "eval_" + variant;
  s.description = std::string("index + search + evaluate the sparse model ") +
                  (synthetic ? "with" : "without") + " synthetic data; BM25 + sparse fusion";
  s.deps = {"data", "bm25", train};
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    const SparseSettings st = sparse_settings(t, root);
    StagePlan p;
    p.config = {{"index", st.index.to_json()},
                {"k", st.k},
                {"metrics", detail::metrics_string(st.metrics)},
                {"fusion",
                 {{"method", std::string(fusion_method_name(st.fusion.method))},
                  {"weights", st.tune_weight ? json("auto") : json(st.fusion.weights)},
                  {"weight_grid", st.tune_weight ? fusion_weight_grid() : std::vector<double>{}},
                  {"rrf_k", st.fusion.rrf_k},
                  {"depth", st.fusion.depth}}}};
    return p;
  };
  s.run = [variant, train](StageContext& ctx) {
    SparseSettings st = sparse_settings(ctx.section(), ctx.root());
    const unsigned threads = detail::threads_from(ctx.root());
    set_encoder_threads(static_cast<int>(threads));
    const fs::path data = ctx.input("data");
    const fs::path corpus = data / "korquad" / "corpus.jsonl";
    const fs::path model_dir = ctx.input(train) / "model";
    const SparseEncoder enc = SparseEncoder::load(model_dir);

    auto t0 = Clock::now();
    const InvertedIndex index = build_impact_index(enc, corpus, st.index);
    write_sparse_index_dir(ctx.out_dir() / "index", index, st.index, model_dir, corpus);
    const double encode_s = seconds_since(t0);

    t0 = Clock::now();
    const std::vector<Query> queries = read_queries(data / "test_queries.jsonl");
    double query_terms = 0;
    const Run run = sparse_run(index, enc, queries, st.k, threads, &query_terms);
    const double search_s = seconds_since(t0);
    const Qrels qrels = read_qrels(data / "korquad" / "qrels" / "test.tsv");
    const EvalResult r =
        detail::evaluate_and_write(ctx.out_dir(), qrels, run, st.metrics, "sparse-" + variant);

    json tuning = nullptr;
    if (st.tune_weight) {
      tuning = tune_fusion_weight(model_dir, ctx.input("bm25") / "index", index, enc, st, threads);
      const double w = tuning["chosen_weight"].get<double>();
      st.fusion.weights = {1.0 - w, w};
    }

    // BM25 + sparse fusion over the two run files, as `ksparse fuse` does.
    const Run bm25 = read_trec_run(ctx.input("bm25") / "run.trec");
    const Run fused = fuse_runs({bm25, read_trec_run(ctx.out_dir() / "run.trec")}, st.fusion);
    const EvalResult f = detail::evaluate_and_write(ctx.out_dir() / "fusion", qrels, fused,
                                                    st.metrics, "bm25+sparse-" + variant);

    const IndexStats& is = index.stats();
    json sparse = json::object(), fusion = json::object();
    for (std::size_t m = 0; m < st.metrics.size(); ++m) {
      sparse[st.metrics[m].name()] = r.mean[m];
      fusion[st.metrics[m].name()] = f.mean[m];
    }
    ctx.stats = {{"documents", is.num_docs},
                 {"terms", is.num_terms},
                 {"postings", is.num_postings},
                 {"avg_doc_terms", is.avg_doc_length},
                 {"queries", queries.size()},
                 {"avg_query_terms", queries.empty() ? 0.0 : query_terms / queries.size()},
                 {"encode_seconds", encode_s},
                 {"search_seconds", search_s},
                 {"sparse", sparse},
                 {"fusion", fusion},
                 {"fusion_weights", st.fusion.weights},
                 {"fusion_tuning", tuning}};
    spdlog::info("eval_{}: {} sparse {:.4f}, BM25 + sparse {:.4f} over {} queries", variant,
                 st.metrics.front().name(), r.mean.front(), f.mean.front(), queries.size());
  };
  return s;
}

}  // namespace

StageSpec train_real_stage() { return train_stage(false); }
StageSpec train_synth_stage() { return train_stage(true); }
StageSpec eval_real_stage() { return eval_stage(false); }
StageSpec eval_synth_stage() { return eval_stage(true); }

StageSpec export_stage() {
  StageSpec s;
  s.name = "export";
  s.description = "OpenSearch export (HF folder, bulk rank_features, mapping, query) of a model";
  s.deps = {"data", "train_real", "train_synth"};
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    t.expect_keys({"enabled", "model", "index_name", "field", "top_k", "threshold", "query"});
    OpenSearchExportOptions o;
    o.index_name = t.get("index_name", o.index_name);
    o.field = t.get("field", o.field);
    o.index.encode.top_k = t.get<std::size_t>("top_k", o.index.encode.top_k);
    o.index.encode.threshold = t.get("threshold", o.index.encode.threshold);
    o.example_query = t.get("query", o.example_query);
    const std::string model = t.get<std::string>("model", "synth");
    if (model != "synth" && model != "real") {
      throw ConfigError(t.where("model") + ": `export.model` must be \"synth\" (the model " +
                        "trained with synthetic data) or \"real\", got \"" + model + "\"");
    }
    try {
      o.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(t.where() + ": [export]: " + e.what());
    }
    (void)root;
    StagePlan p;
    p.config = {{"model", model},
                {"index_name", o.index_name},
                {"field", o.field},
                {"encode", o.index.to_json()},
                {"query", o.example_query}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const json& c = ctx.config();
    OpenSearchExportOptions o;
    o.index_name = c["index_name"].get<std::string>();
    o.field = c["field"].get<std::string>();
    o.index.encode.top_k = ctx.section().get<std::size_t>("top_k", o.index.encode.top_k);
    o.index.encode.threshold = ctx.section().get("threshold", o.index.encode.threshold);
    o.example_query = c["query"].get<std::string>();
    set_encoder_threads(static_cast<int>(detail::threads_from(ctx.root())));
    const std::string train = "train_" + c["model"].get<std::string>();
    const fs::path model_dir = ctx.input(train) / "model";
    const fs::path out = ctx.out_dir() / "opensearch";
    const OpenSearchExportResult r = export_opensearch(
        model_dir, ctx.input("data") / "korquad" / "corpus.jsonl", out, o);
    ctx.stats = r.to_json();
    ctx.stats["model"] = train;
    ctx.stats["bulk_bytes"] = fs::file_size(out / "bulk.jsonl");
    ctx.stats["dir"] = "opensearch";
  };
  return s;
}

}  // namespace ksparse::pipeline
