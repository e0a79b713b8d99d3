// `ksparse train` (triples + corpus -> sparse encoder model directory), `ksparse encode` (model +
// corpus -> impact index), `ksparse export` (OpenSearch bulk JSONL, mapping, neural_sparse query),
// and the model query side of `ksparse search --model`.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/config.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/encoder/opensearch_export.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/encoder/sparse_index.h"
#include "ksparse/encoder/trainer.h"
#include "ksparse/index/text_index.h"

namespace ksparse::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

struct TrainCommandOptions {
  fs::path triples, corpus, out, config;
  TrainOptions train;
  // Command-line overrides (applied after the config file): -1 / empty = not given.
  std::int64_t max_steps = -1;
  std::int64_t seed = -1;
  int threads = -1;
  bool no_resume = false;
};

void run_train(const TrainCommandOptions& opt) {
  TrainOptions o;
  if (!opt.config.empty()) {
    const ConfigTable root = load_config(opt.config);
    o = train_options_from(root.contains("train") ? root.table("train") : root);
  }
  if (opt.max_steps >= 0) o.max_steps = opt.max_steps;
  if (opt.seed >= 0) o.seed = static_cast<std::uint64_t>(opt.seed);
  if (opt.threads >= 0) o.threads = opt.threads;
  if (opt.no_resume) o.resume = false;
  o.validate();
  const TrainResult r = train_encoder(opt.triples, opt.corpus, opt.out, o);
  spdlog::info("trained {} steps (resumed from {}), final loss {:.4f}, best validation nDCG@10 "
               "{:.4f} at step {}{} in {:.1f} s; model written to {}",
               r.steps, r.resumed_from, r.final_loss, r.best_valid_ndcg, r.best_step,
               r.early_stopped ? " (early stop)" : "", r.seconds, opt.out.string());
}

struct EncodeCommandOptions {
  fs::path model, corpus, out;
  SparseIndexOptions index;
  int threads = 0;
};

// 0 = all hardware threads (libtorch's default), else exactly `threads`.
void set_threads(int threads) { set_encoder_threads(threads); }

void run_encode(EncodeCommandOptions opt) {
  opt.index.validate();
  set_threads(opt.threads);
  const auto t0 = Clock::now();
  const SparseEncoder enc = SparseEncoder::load(opt.model);
  opt.index.encode.show_progress = true;
  const InvertedIndex index = build_impact_index(enc, opt.corpus, opt.index);
  write_sparse_index_dir(opt.out, index, opt.index, opt.model, opt.corpus);
  const IndexStats& s = index.stats();
  spdlog::info("encoded {} documents ({} terms, {} postings, {:.1f} non-zeros/doc) into {} in "
               "{:.1f} s",
               s.num_docs, s.num_terms, s.num_postings, s.avg_doc_length, opt.out.string(),
               std::chrono::duration<double>(Clock::now() - t0).count());
}

struct ExportCommandOptions {
  fs::path model, corpus, out;
  OpenSearchExportOptions exp;
  int threads = 0;
};

void run_export(ExportCommandOptions opt) {
  set_threads(opt.threads);
  opt.exp.show_progress = true;
  const OpenSearchExportResult r = export_opensearch(opt.model, opt.corpus, opt.out, opt.exp);
  spdlog::info("exported {} documents ({:.1f} features/doc, {} features with '.' dropped) to {}",
               r.documents, r.documents ? static_cast<double>(r.features) / r.documents : 0.0,
               r.dropped_dot_features, opt.out.string());
}

}  // namespace

std::vector<SparseVector> model_query_vectors(const InvertedIndex& index,
                                              const fs::path& model_dir,
                                              const std::vector<std::string>& texts) {
  if (!is_sparse_encoder_index(index)) {
    throw ConfigError("search --model needs an index built by `ksparse encode` (a sparse encoder "
                      "impact index); " + index.name() + " is not one. Drop --model to search it "
                      "with its analyzer");
  }
  const SparseEncoder enc = SparseEncoder::load(model_dir);
  std::vector<SparseVector> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) out.push_back(index_query(index, enc, t));
  return out;
}

void add_train_commands(CLI::App& app) {
  auto topt = std::make_shared<TrainCommandOptions>();
  auto* train = app.add_subcommand(
      "train", "Train a sparse encoder (doc-only or siamese) from triples; writes MODEL_DIR");
  train->add_option("--triples", topt->triples, "triples JSONL (real + synthetic, `source`)")
      ->required();
  train->add_option("--corpus", topt->corpus, "BEIR corpus.jsonl the triples refer to")->required();
  train->add_option("--out", topt->out, "model directory (HF folder, loss curve, checkpoints)")
      ->required();
  train->add_option("--config", topt->config,
                    "TOML with a [train] table (fields of TrainOptions; defaults otherwise)");
  train->add_option("--max-steps", topt->max_steps, "override train.max_steps");
  train->add_option("--seed", topt->seed, "override train.seed");
  train->add_option("--threads", topt->threads, "override train.threads (0 = all cores)");
  train->add_flag("--no-resume", topt->no_resume,
                  "start over even when MODEL_DIR/checkpoints holds a checkpoint");
  train->callback([topt] { run_train(*topt); });

  auto eopt = std::make_shared<EncodeCommandOptions>();
  auto* encode = app.add_subcommand(
      "encode", "Encode a corpus with a sparse encoder into an impact index (for `search --model`)");
  encode->add_option("--model", eopt->model, "model directory")->required();
  encode->add_option("--corpus", eopt->corpus, "BEIR corpus.jsonl")->required();
  encode->add_option("--out", eopt->out, "index directory to write")->required();
  encode->add_option("--top-k", eopt->index.encode.top_k, "keep the k largest weights; 0 = all")
      ->capture_default_str();
  encode->add_option("--threshold", eopt->index.encode.threshold, "drop weights <= threshold")
      ->capture_default_str();
  encode->add_option("--batch-size", eopt->index.encode.batch_size, "documents per forward pass")
      ->capture_default_str();
  encode->add_option("--max-length", eopt->index.encode.max_length,
                     "tokens per document; 0 = the model's setting")
      ->capture_default_str();
  encode->add_flag("!--no-title", eopt->index.index_title, "encode the text field only");
  encode->add_option("--threads", eopt->threads, "torch threads; 0 = all cores")
      ->capture_default_str();
  encode->callback([eopt] { run_encode(*eopt); });

  auto xopt = std::make_shared<ExportCommandOptions>();
  auto* exp = app.add_subcommand(
      "export",
      "OpenSearch export: HF model folder, bulk JSONL with rank_features, mapping, neural_sparse "
      "query example");
  exp->add_option("--model", xopt->model, "model directory")->required();
  exp->add_option("--corpus", xopt->corpus, "BEIR corpus.jsonl")->required();
  exp->add_option("--out", xopt->out, "export directory")->required();
  exp->add_option("--index-name", xopt->exp.index_name, "OpenSearch index name")
      ->capture_default_str();
  exp->add_option("--field", xopt->exp.field, "rank_features field name")->capture_default_str();
  exp->add_option("--top-k", xopt->exp.index.encode.top_k, "keep the k largest weights; 0 = all")
      ->capture_default_str();
  exp->add_option("--threshold", xopt->exp.index.encode.threshold, "drop weights <= threshold")
      ->capture_default_str();
  exp->add_option("--query", xopt->exp.example_query,
                  "query text for query_example.json (default: the first document's title)");
  exp->add_flag("!--no-title", xopt->exp.index.index_title, "encode the text field only");
  exp->add_option("--threads", xopt->threads, "torch threads; 0 = all cores")
      ->capture_default_str();
  exp->callback([xopt] { run_export(*xopt); });
}

}  // namespace ksparse::cli
