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
  std::string index_name = "ksparse-neural-sparse";
  std::string field = "passage_embedding";
  SparseIndexOptions index;
  std::string example_query;  // empty: the first document's title or text prefix
  int threads = 0;
};

// OpenSearch rank_features cannot take feature names with '.', which it reads as object paths.
bool feature_name_ok(const std::string& token) {
  return !token.empty() && token.find('.') == std::string::npos;
}

json weights_object(const SparseEncoder& enc, const SparseVector& v, std::size_t& dropped) {
  json obj = json::object();
  for (const auto& [token, w] : enc.term_weights(v)) {
    if (!(w > 0.0f)) continue;
    if (!feature_name_ok(token)) {
      ++dropped;
      continue;
    }
    obj[token] = w;
  }
  return obj;
}

void run_export(ExportCommandOptions opt) {
  opt.index.validate();
  set_threads(opt.threads);
  const SparseEncoder enc = SparseEncoder::load(opt.model);
  fs::create_directories(opt.out);
  enc.save(opt.out / "model");
  // Bulk NDJSON: an action line then the document, for POST _bulk.
  const fs::path bulk = opt.out / "bulk.jsonl";
  JsonlWriter writer(bulk);
  CorpusReader reader(opt.corpus);
  std::vector<Document> chunk;
  std::size_t dropped = 0, docs = 0;
  std::uint64_t features = 0;
  Document doc;
  DocumentEncodeOptions eo = opt.index.encode;
  eo.show_progress = false;
  Progress progress("exporting", 0);
  auto flush = [&] {
    if (chunk.empty()) return;
    std::vector<std::string> texts;
    for (const Document& d : chunk) texts.push_back(sparse_index_text(d, opt.index.index_title));
    const auto vecs = enc.encode_documents(texts, eo);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      writer.write(json{{"index", {{"_index", opt.index_name}, {"_id", chunk[i].id}}}});
      json body = {{"title", chunk[i].title}, {"text", chunk[i].text}};
      body[opt.field] = weights_object(enc, vecs[i], dropped);
      features += body[opt.field].size();
      writer.write(body);
    }
    docs += chunk.size();
    progress.advance(chunk.size());
    chunk.clear();
  };
  while (reader.next(doc)) {
    if (opt.example_query.empty())
      opt.example_query = doc.title.empty() ? doc.text.substr(0, 60) : doc.title;
    chunk.push_back(std::move(doc));
    if (chunk.size() >= opt.index.chunk) flush();
  }
  flush();
  progress.finish();
  writer.close();

  const json mapping = {
      {"settings", {{"index", {{"number_of_shards", 1}, {"number_of_replicas", 0}}}}},
      {"mappings",
       {{"properties",
         {{"title", {{"type", "text"}}},
          {"text", {{"type", "text"}}},
          {opt.field, {{"type", "rank_features"}}}}}}}};
  std::ofstream(opt.out / "mapping.json") << mapping.dump(2) << '\n';
  std::size_t q_dropped = 0;
  const json tokens = weights_object(enc, enc.query_weights(opt.example_query), q_dropped);
  const json query = {
      {"_source", {{"excludes", json::array({opt.field})}}},
      {"query", {{"neural_sparse", {{opt.field, {{"query_tokens", tokens}}}}}}}};
  std::ofstream(opt.out / "query_example.json") << query.dump(2) << '\n';
  std::ofstream readme(opt.out / "README.md");
  readme << "# OpenSearch export of " << fs::absolute(opt.model).string() << "\n\n"
         << "```sh\n"
         << "curl -XPUT localhost:9200/" << opt.index_name
         << " -H 'Content-Type: application/json' -d @mapping.json\n"
         << "curl -XPOST localhost:9200/_bulk -H 'Content-Type: application/x-ndjson' "
            "--data-binary @bulk.jsonl\n"
         << "curl -XPOST localhost:9200/" << opt.index_name
         << "/_search -H 'Content-Type: application/json' -d @query_example.json\n"
         << "```\n\n"
         << "`model/` is the Hugging Face folder (config.json, model.safetensors, tokenizer files, "
            "idf.json) for OpenSearch's sparse encoding / tokenizer model registration. "
            "query_example.json holds the query `"
         << opt.example_query << "` as `query_tokens` (IDF weights in doc-only mode).\n"
         << "Tokens containing '.' are left out of rank_features (OpenSearch reads dots as object "
            "paths): "
         << dropped << " document features dropped.\n";
  Manifest m = make_manifest("opensearch_export", {{"index_name", opt.index_name},
                                                   {"field", opt.field},
                                                   {"encode", opt.index.to_json()},
                                                   {"model", fs::absolute(opt.model).string()}});
  m.inputs.push_back(describe_file(opt.corpus));
  for (const char* f : {"bulk.jsonl", "mapping.json", "query_example.json"})
    m.outputs.push_back(describe_file(opt.out / f, opt.out));
  m.stats = {{"documents", docs}, {"features", features}, {"dropped_dot_features", dropped}};
  write_manifest(opt.out, m);
  spdlog::info("exported {} documents ({:.1f} features/doc, {} features with '.' dropped) to {}",
               docs, docs ? static_cast<double>(features) / docs : 0.0, dropped,
               opt.out.string());
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
  exp->add_option("--index-name", xopt->index_name, "OpenSearch index name")
      ->capture_default_str();
  exp->add_option("--field", xopt->field, "rank_features field name")->capture_default_str();
  exp->add_option("--top-k", xopt->index.encode.top_k, "keep the k largest weights; 0 = all")
      ->capture_default_str();
  exp->add_option("--threshold", xopt->index.encode.threshold, "drop weights <= threshold")
      ->capture_default_str();
  exp->add_option("--query", xopt->example_query,
                  "query text for query_example.json (default: the first document's title)");
  exp->add_flag("!--no-title", xopt->index.index_title, "encode the text field only");
  exp->add_option("--threads", xopt->threads, "torch threads; 0 = all cores")
      ->capture_default_str();
  exp->callback([xopt] { run_export(*xopt); });
}

}  // namespace ksparse::cli
