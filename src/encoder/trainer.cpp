// Sparse encoder training loop: data, batches, losses, AdamW schedule, checkpoints and resume,
// validation and early stopping. The model, pooling and losses live in bert_model.cpp.
//
// Recipe: OpenSearch inference-free sparse retrievers (Geng et al., "Towards Competitive
// Search Relevance For Inference-Free Learned Sparse Retrievers", arXiv 2411.04403) and SPLADE
// (Formal et al., SIGIR 2021, FLOPS from Paria et al., ICLR 2020): InfoNCE over positive, hard and
// in-batch negatives; FLOPS on documents with lambda ramped quadratically; optional KL distillation.
#include "ksparse/encoder/trainer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bert_model.h"
#include "ksparse/core/error.h"
#include "ksparse/core/heap.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/encoder/sparse_index.h"
#include "ksparse/encoder/wordpiece_trainer.h"
#include "ksparse/eval/metrics.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"
#include "ksparse/synth/merge.h"
#include "ksparse/synth/triples.h"
#include "sparse_encoder_internal.h"

namespace ksparse {
namespace fs = std::filesystem;
namespace ed = encoder::detail;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Options

void TrainOptions::validate() const {
  auto fail = [](const std::string& what) { throw ConfigError("train: " + what); };
  if (!(synthetic_per_real >= 0.0) || !std::isfinite(synthetic_per_real))
    fail("synthetic_per_real must be a finite number >= 0");
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
    fail("validation_fraction must be in [0, 1)");
  if (init_model.empty()) {
    if (vocab_size < 16) fail("vocab_size must be >= 16");
    if (vocab_min_frequency < 1) fail("vocab_min_frequency must be >= 1");
    if (hidden_size < 1 || num_layers < 1 || num_heads < 1 || intermediate_size < 1)
      fail("hidden_size, num_layers, num_heads, intermediate_size must be >= 1");
    if (hidden_size % num_heads != 0) fail("num_heads must divide hidden_size");
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) fail("dropout must be in [0, 1)");
  if (mode != "doc-only" && mode != "siamese") fail("mode must be doc-only or siamese, got " + mode);
  if (learn_idf && mode != "doc-only") fail("learn_idf needs mode = doc-only");
  if (pooling != "log1p" && pooling != "l0") fail("pooling must be log1p or l0, got " + pooling);
  if (max_length < 4 || max_length > 512) fail("max_length must be in [4, 512]");
  if (max_query_length < 3 || max_query_length > 512) fail("max_query_length must be in [3, 512]");
  if (batch_size < 1) fail("batch_size must be >= 1");
  if (!(temperature > 0.0)) fail("temperature must be > 0");
  if (!(flops_doc >= 0.0) || !(flops_query >= 0.0)) fail("flops_doc, flops_query must be >= 0");
  if (flops_warmup_steps < 0) fail("flops_warmup_steps must be >= 0");
  if (teacher != "none" && teacher != "bm25") fail("teacher must be none or bm25, got " + teacher);
  if (!(distill_weight >= 0.0)) fail("distill_weight must be >= 0");
  if (distill_weight > 0.0 && teacher == "none") fail("distill_weight > 0 needs teacher = bm25");
  if (!(lr > 0.0)) fail("lr must be > 0");
  if (!(prior_lr_scale >= 0.0) || !std::isfinite(prior_lr_scale))
    fail("prior_lr_scale must be a finite number >= 0 (0 freezes the prior's parameters)");
  if (!(weight_decay >= 0.0)) fail("weight_decay must be >= 0");
  if (max_steps < 1) fail("max_steps must be >= 1");
  if (warmup_steps < 0 || (warmup_steps >= max_steps && max_steps > 1))
    fail("warmup_steps must be in [0, max_steps)");
  if (grad_accum < 1) fail("grad_accum must be >= 1");
  if (!(clip_norm >= 0.0)) fail("clip_norm must be >= 0");
  if (threads < 0) fail("threads must be >= 0");
  if (checkpoint_every < 0 || eval_every < 0) fail("checkpoint_every, eval_every must be >= 0");
  if (keep_checkpoints < 1) fail("keep_checkpoints must be >= 1");
  if (log_every < 1) fail("log_every must be >= 1");
}

json TrainOptions::to_json() const {
  return {{"synthetic_per_real", synthetic_per_real},
          {"validation_fraction", validation_fraction},
          {"max_validation_queries", max_validation_queries},
          {"exclude_validation_docs", exclude_validation_docs},
          {"init_model", init_model.string()},
          {"vocab_size", vocab_size},
          {"vocab_min_frequency", vocab_min_frequency},
          {"hidden_size", hidden_size},
          {"num_layers", num_layers},
          {"num_heads", num_heads},
          {"intermediate_size", intermediate_size},
          {"dropout", dropout},
          {"lexical_prior", lexical_prior},
          {"mode", mode},
          {"learn_idf", learn_idf},
          {"pooling", pooling},
          {"max_length", max_length},
          {"max_query_length", max_query_length},
          {"batch_size", batch_size},
          {"hard_negatives", hard_negatives},
          {"in_batch_negatives", in_batch_negatives},
          {"temperature", temperature},
          {"flops_doc", flops_doc},
          {"flops_query", flops_query},
          {"flops_warmup_steps", flops_warmup_steps},
          {"flops_idf_aware", flops_idf_aware},
          {"teacher", teacher},
          {"distill_weight", distill_weight},
          {"lr", lr},
          {"prior_lr_scale", prior_lr_scale},
          {"weight_decay", weight_decay},
          {"warmup_steps", warmup_steps},
          {"max_steps", max_steps},
          {"grad_accum", grad_accum},
          {"clip_norm", clip_norm},
          {"seed", seed},
          {"threads", threads},
          {"retain_freed_memory", retain_freed_memory},
          {"checkpoint_every", checkpoint_every},
          {"keep_checkpoints", keep_checkpoints},
          {"eval_every", eval_every},
          {"patience", patience},
          {"collapse_steps", collapse_steps},
          {"log_every", log_every},
          {"resume", resume}};
}

TrainOptions train_options_from(const ConfigTable& t) {
  t.expect_keys({"synthetic_per_real", "validation_fraction", "max_validation_queries",
                 "exclude_validation_docs", "init_model", "vocab_size", "vocab_min_frequency",
                 "hidden_size", "num_layers", "num_heads", "intermediate_size", "dropout",
                 "lexical_prior", "mode", "learn_idf", "pooling", "max_length",
                 "max_query_length", "batch_size", "hard_negatives", "in_batch_negatives",
                 "temperature", "flops_doc", "flops_query", "flops_warmup_steps",
                 "flops_idf_aware", "teacher", "distill_weight", "lr", "prior_lr_scale", "weight_decay",
                 "warmup_steps", "max_steps", "grad_accum", "clip_norm", "seed", "threads",
                 "retain_freed_memory", "checkpoint_every", "keep_checkpoints", "eval_every",
                 "patience", "collapse_steps", "log_every", "resume"});
  TrainOptions o;
  auto size = [&](std::string_view key, std::size_t def) {
    const std::int64_t v = t.get<std::int64_t>(key, static_cast<std::int64_t>(def));
    if (v < 0) throw ConfigError(t.where(key) + ": `" + std::string(key) + "` must be >= 0");
    return static_cast<std::size_t>(v);
  };
  o.synthetic_per_real = t.get("synthetic_per_real", o.synthetic_per_real);
  o.validation_fraction = t.get("validation_fraction", o.validation_fraction);
  o.max_validation_queries = size("max_validation_queries", o.max_validation_queries);
  o.exclude_validation_docs = t.get("exclude_validation_docs", o.exclude_validation_docs);
  o.init_model = t.get("init_model", o.init_model);
  o.vocab_size = size("vocab_size", o.vocab_size);
  o.vocab_min_frequency = size("vocab_min_frequency", o.vocab_min_frequency);
  o.hidden_size = t.get("hidden_size", o.hidden_size);
  o.num_layers = t.get("num_layers", o.num_layers);
  o.num_heads = t.get("num_heads", o.num_heads);
  o.intermediate_size = t.get("intermediate_size", o.intermediate_size);
  o.dropout = t.get("dropout", o.dropout);
  o.lexical_prior = t.get("lexical_prior", o.lexical_prior);
  o.mode = t.get("mode", o.mode);
  o.learn_idf = t.get("learn_idf", o.learn_idf);
  o.pooling = t.get("pooling", o.pooling);
  o.max_length = size("max_length", o.max_length);
  o.max_query_length = size("max_query_length", o.max_query_length);
  o.batch_size = size("batch_size", o.batch_size);
  o.hard_negatives = size("hard_negatives", o.hard_negatives);
  o.in_batch_negatives = t.get("in_batch_negatives", o.in_batch_negatives);
  o.temperature = t.get("temperature", o.temperature);
  o.flops_doc = t.get("flops_doc", o.flops_doc);
  o.flops_query = t.get("flops_query", o.flops_query);
  o.flops_warmup_steps = t.get("flops_warmup_steps", o.flops_warmup_steps);
  o.flops_idf_aware = t.get("flops_idf_aware", o.flops_idf_aware);
  o.teacher = t.get("teacher", o.teacher);
  o.distill_weight = t.get("distill_weight", o.distill_weight);
  o.lr = t.get("lr", o.lr);
  o.prior_lr_scale = t.get("prior_lr_scale", o.prior_lr_scale);
  o.weight_decay = t.get("weight_decay", o.weight_decay);
  o.warmup_steps = t.get("warmup_steps", o.warmup_steps);
  o.max_steps = t.get("max_steps", o.max_steps);
  o.grad_accum = size("grad_accum", o.grad_accum);
  o.clip_norm = t.get("clip_norm", o.clip_norm);
  o.seed = t.get("seed", o.seed);
  o.threads = t.get("threads", o.threads);
  o.retain_freed_memory = t.get("retain_freed_memory", o.retain_freed_memory);
  o.checkpoint_every = t.get("checkpoint_every", o.checkpoint_every);
  o.keep_checkpoints = size("keep_checkpoints", o.keep_checkpoints);
  o.eval_every = t.get("eval_every", o.eval_every);
  o.patience = size("patience", o.patience);
  o.collapse_steps = size("collapse_steps", o.collapse_steps);
  o.log_every = t.get("log_every", o.log_every);
  o.resume = t.get("resume", o.resume);
  return o;
}

json TrainResult::to_json() const {
  return {{"steps", steps},
          {"resumed_from", resumed_from},
          {"final_loss", final_loss},
          {"best_valid_ndcg@10", best_valid_ndcg},
          {"best_step", best_step},
          {"early_stopped", early_stopped},
          {"train_triples", train_triples},
          {"valid_queries", valid_queries},
          {"seconds", seconds},
          {"step_seconds", step_seconds},
          {"fastest_step_seconds", fastest_step_seconds}};
}

namespace {

using Clock = std::chrono::steady_clock;

std::string doc_text(const Document& d) {
  return d.title.empty() ? d.text : d.title + " " + d.text;
}

// ---------------------------------------------------------------------------------------------
// Durable file helpers: a checkpoint must either exist completely or not at all after a kill -9.

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_text_durable(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw IoError("cannot write " + tmp.string() + ": check disk space and permissions");
  }
  fsync_path(tmp);
  fs::rename(tmp, path);
  fsync_path(path.parent_path());
}

json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw IoError(path.string() + ": not valid JSON (" + e.what() +
                  "); delete the checkpoint directory to start over");
  }
}

// ---------------------------------------------------------------------------------------------
// Data

struct TrainData {
  std::vector<Document> docs;
  std::unordered_map<std::string, std::size_t> doc_index;
  std::vector<synth::Triple> train;
  std::vector<Query> valid_queries;
  Qrels valid_qrels;
  json merge_stats;
};

TrainData load_data(const fs::path& triples_path, const fs::path& corpus_path,
                    const TrainOptions& o) {
  TrainData d;
  d.docs = read_corpus(corpus_path);
  for (std::size_t i = 0; i < d.docs.size(); ++i) d.doc_index.emplace(d.docs[i].id, i);
  std::vector<synth::Triple> real, synthetic;
  for (synth::Triple& t : synth::read_triples(triples_path)) {
    if (!d.doc_index.count(t.positive_id)) {
      throw DataError(triples_path.string() + ": query_id '" + t.query_id + "' has positive_id '" +
                      t.positive_id + "' that is not in " + corpus_path.string() +
                      "; the triples must come from this corpus");
    }
    (t.source == synth::TripleSource::kReal ? real : synthetic).push_back(std::move(t));
  }
  synth::MergeOptions mo;
  mo.synthetic_per_real = o.synthetic_per_real;
  mo.validation_fraction = o.validation_fraction;
  mo.exclude_validation_docs = o.exclude_validation_docs;
  mo.seed = o.seed;
  synth::MergeResult merged = synth::merge_triples(real, synthetic, mo);
  d.train = std::move(merged.train);
  d.merge_stats = std::move(merged.stats);
  if (d.train.empty()) {
    throw DataError(triples_path.string() + ": no training triples left after the validation " +
                    "split; add triples or lower validation_fraction");
  }
  std::unordered_set<std::string> seen;
  for (const synth::Triple& t : merged.validation) {
    if (seen.insert(t.query_id).second) {
      if (o.max_validation_queries != 0 && d.valid_queries.size() >= o.max_validation_queries)
        continue;
      d.valid_queries.push_back(Query{t.query_id, t.query, nullptr});
    }
    d.valid_qrels[t.query_id][t.positive_id] = 1;
  }
  // Qrels of queries that were cut by max_validation_queries are not evaluated.
  std::unordered_set<std::string> kept;
  for (const Query& q : d.valid_queries) kept.insert(q.id);
  for (auto it = d.valid_qrels.begin(); it != d.valid_qrels.end();) {
    it = kept.count(it->first) ? std::next(it) : d.valid_qrels.erase(it);
  }
  return d;
}

// BM25 teacher: score(query, doc) from a bigram BM25 index of the corpus.
class Bm25Teacher {
 public:
  explicit Bm25Teacher(const fs::path& corpus) : index_(make_index(corpus)),
        analyzer_(index_analyzer_options(index_)) {
    for (DocId i = 0; i < index_.num_docs(); ++i) docs_.emplace(std::string(index_.doc_id(i)), i);
  }
  SparseVector query(const std::string& text) const { return encode_query(index_, analyzer_, text); }
  float score(const SparseVector& q, const std::string& doc_id) const {
    const DocId d = docs_.at(doc_id);
    double s = 0.0;
    for (const auto& e : q.entries()) {
      const PostingList pl = index_.postings(e.term);
      auto it = std::lower_bound(pl.docs.begin(), pl.docs.end(), d);
      if (it != pl.docs.end() && *it == d) s += e.weight * pl.scores[it - pl.docs.begin()];
    }
    return static_cast<float>(s);
  }

 private:
  static InvertedIndex make_index(const fs::path& corpus) {
    Bm25IndexOptions o;
    o.show_progress = false;
    return build_bm25_index(corpus, o);
  }
  InvertedIndex index_;
  Analyzer analyzer_;
  std::unordered_map<std::string, DocId> docs_;
};

// ---------------------------------------------------------------------------------------------
// Training state

struct Checkpoint {
  std::int64_t step = 0;  // optimizer steps done
  double best_ndcg = -1.0;
  std::int64_t best_step = -1;
  std::size_t evals_since_best = 0;
  double last_loss = 0.0;
};

json checkpoint_json(const Checkpoint& c) {
  return {{"step", c.step},
          {"best_ndcg", c.best_ndcg},
          {"best_step", c.best_step},
          {"evals_since_best", c.evals_since_best},
          {"last_loss", c.last_loss}};
}

Checkpoint checkpoint_from_json(const json& j) {
  Checkpoint c;
  c.step = j.at("step").get<std::int64_t>();
  c.best_ndcg = j.at("best_ndcg").get<double>();
  c.best_step = j.at("best_step").get<std::int64_t>();
  c.evals_since_best = j.at("evals_since_best").get<std::size_t>();
  c.last_loss = j.at("last_loss").get<double>();
  return c;
}

double learning_rate(const TrainOptions& o, std::int64_t step) {
  if (step < o.warmup_steps) return o.lr * static_cast<double>(step + 1) / o.warmup_steps;
  const double span = static_cast<double>(o.max_steps - o.warmup_steps);
  return o.lr * std::max(0.0, static_cast<double>(o.max_steps - step) / span);
}

// Mixes (seed, a, b, c) into one 64-bit seed (splitmix64 finaliser over a running combination).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                       std::uint64_t c = 0) {
  std::uint64_t x = seed;
  for (std::uint64_t v : {a, b, c}) {
    x += 0x9e3779b97f4a7c15ULL + v;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
  }
  return x;
}

class Trainer {
 public:
  Trainer(const fs::path& triples, const fs::path& corpus, const fs::path& out,
          const TrainOptions& o)
      : triples_path_(triples), corpus_path_(corpus), out_(out), o_(o),
        ckpt_dir_(out / "checkpoints") {}

  TrainResult run();

 private:
  void setup_model();
  void setup_optimizer();
  torch::Tensor encode_docs(const std::vector<std::size_t>& doc_ids);
  torch::Tensor batch_ids(const std::vector<const std::vector<std::int64_t>*>& seqs,
                          torch::Tensor& mask) const;
  json train_step(std::int64_t step);
  double validate_ndcg();
  void save_checkpoint(const Checkpoint& c);
  std::optional<Checkpoint> load_latest_checkpoint();
  void save_best();
  void load_best();
  void truncate_loss_curve(std::int64_t step);
  void append_curve(const json& row);
  std::vector<float> current_idf() const;

  fs::path triples_path_, corpus_path_, out_;
  TrainOptions o_;
  fs::path ckpt_dir_;
  TrainData data_;
  std::optional<SparseEncoder> enc_;
  ed::BertForMaskedLM model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> opt_;
  std::vector<double> group_lr_scale_;  // per optimizer group: multiplier of the scheduled lr
  std::vector<std::vector<std::int64_t>> doc_tokens_;    // per corpus doc
  std::vector<std::vector<std::int64_t>> query_tokens_;  // per train triple (distinct ids, or seq)
  torch::Tensor idf_;         // [V] fixed corpus IDF
  torch::Tensor idf_param_;   // [V] learned query IDF (learn_idf)
  torch::Tensor token_mask_;  // [V] 1 keep, 0 special
  std::int64_t pad_id_ = 0;
  std::int64_t vocab_ = 0;
  std::unique_ptr<Bm25Teacher> teacher_;
  std::vector<SparseVector> teacher_queries_;  // per train triple
};

void Trainer::setup_model() {
  const fs::path tok_dir = ckpt_dir_ / "tokenizer";
  std::vector<std::string> texts;
  texts.reserve(data_.docs.size());
  for (const Document& d : data_.docs) texts.push_back(doc_text(d));
  SparseEncoderSettings settings;
  settings.mode = parse_encoder_mode(o_.mode);
  settings.pooling = o_.pooling == "l0" ? SparsePooling::kL0 : SparsePooling::kLog1pRelu;
  settings.max_length = o_.max_length;
  if (!o_.init_model.empty()) {
    enc_.emplace(SparseEncoder::load(o_.init_model));
    enc_->set_settings(settings);
    if (enc_->idf().empty()) enc_->set_idf(compute_idf(enc_->tokenizer(), texts, o_.max_length));
  } else {
    std::optional<WordPieceTokenizer> tok;
    if (fs::exists(tok_dir / "tokenizer.json")) {
      tok.emplace(WordPieceTokenizer::from_file(tok_dir / "tokenizer.json"));
    } else {
      WordPieceTrainerOptions wo;
      wo.vocab_size = o_.vocab_size;
      wo.min_frequency = o_.vocab_min_frequency;
      WordPieceTrainer trainer(wo);
      for (const std::string& t : texts) trainer.add_text(t);
      for (const synth::Triple& t : data_.train) trainer.add_text(t.query);
      tok.emplace(trainer.train());
      const fs::path tmp = ckpt_dir_ / ".tmp-tokenizer";
      fs::remove_all(tmp);
      write_trained_tokenizer(tmp, *tok, trainer.options(), trainer.stats());
      fsync_path(tmp / "tokenizer.json");
      fs::rename(tmp, tok_dir);
      spdlog::info("trained a WordPiece vocabulary of {} pieces", tok->vocab_size());
    }
    std::vector<float> idf = compute_idf(*tok, texts, o_.max_length);
    BertConfig bc;
    bc.hidden_size = o_.hidden_size;
    bc.num_hidden_layers = o_.num_layers;
    bc.num_attention_heads = o_.num_heads;
    bc.intermediate_size = o_.intermediate_size;
    bc.max_position_embeddings = static_cast<std::int64_t>(std::max<std::size_t>(
        o_.max_length, o_.max_query_length));
    bc.hidden_dropout_prob = o_.dropout;
    bc.attention_probs_dropout_prob = o_.dropout;
    enc_.emplace(SparseEncoder::create(std::move(*tok), bc, settings, std::move(idf),
                                       o_.lexical_prior, o_.seed));
  }
  model_ = enc_->impl().model;
  const WordPieceTokenizer& tok = enc_->tokenizer();
  vocab_ = enc_->config().vocab_size;
  pad_id_ = std::max<std::int32_t>(0, tok.pad_id());
  token_mask_ = enc_->impl().token_mask;
  idf_ = torch::tensor(enc_->idf()).clamp_min(0.0) * token_mask_;
  if (o_.learn_idf) idf_param_ = idf_.clone().set_requires_grad(true);

  EncodeOptions eo;
  eo.max_length = o_.max_length;
  doc_tokens_.reserve(texts.size());
  for (const std::string& t : texts) {
    Encoding e = tok.encode(t, eo);
    doc_tokens_.emplace_back(e.ids.begin(), e.ids.end());
  }
  const bool siamese = o_.mode == "siamese";
  EncodeOptions qo;
  qo.max_length = siamese ? o_.max_query_length : o_.max_length;
  for (const synth::Triple& t : data_.train) {
    Encoding e = tok.encode(t.query, qo);
    std::vector<std::int64_t> ids;
    if (siamese) {
      ids.assign(e.ids.begin(), e.ids.end());
    } else {
      std::set<std::int64_t> distinct;
      for (std::int32_t id : e.ids)
        if (!tok.is_special(id)) distinct.insert(id);
      ids.assign(distinct.begin(), distinct.end());
    }
    query_tokens_.push_back(std::move(ids));
  }
  if (o_.teacher == "bm25") {
    teacher_ = std::make_unique<Bm25Teacher>(corpus_path_);
    for (const synth::Triple& t : data_.train) teacher_queries_.push_back(teacher_->query(t.query));
  }
}

void Trainer::setup_optimizer() {
  // Groups: [decay, no decay] x [transformer, lexical prior (see TrainOptions::prior_lr_scale)].
  std::vector<torch::Tensor> params[2][2];
  for (const auto& p : model_->named_parameters()) {
    const std::string& name = p.key();
    const bool nd = name.find("bias") != std::string::npos ||
                    name.find("LayerNorm") != std::string::npos;
    const bool prior = name == "bert.embeddings.word_embeddings.weight" ||
                       name.rfind("cls.predictions.", 0) == 0;
    if (prior && o_.prior_lr_scale == 0.0) {
      p.value().set_requires_grad(false);
      continue;
    }
    // A scale of 1 keeps the two groups of earlier versions (their checkpoints resume).
    const bool split = prior && o_.prior_lr_scale != 1.0;
    params[split ? 1 : 0][nd ? 1 : 0].push_back(p.value());
  }
  if (idf_param_.defined()) params[0][1].push_back(idf_param_);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  group_lr_scale_.clear();
  for (int prior = 0; prior < 2; ++prior) {
    for (int nd = 0; nd < 2; ++nd) {
      if (params[prior][nd].empty()) continue;
      const double wd = nd ? 0.0 : o_.weight_decay;
      auto opts = std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(o_.lr).weight_decay(wd).betas({0.9, 0.999}).eps(1e-8));
      groups.emplace_back(params[prior][nd], std::move(opts));
      group_lr_scale_.push_back(prior ? o_.prior_lr_scale : 1.0);
    }
  }
  opt_ = std::make_unique<torch::optim::AdamW>(std::move(groups),
                                               torch::optim::AdamWOptions(o_.lr));
}

torch::Tensor Trainer::batch_ids(const std::vector<const std::vector<std::int64_t>*>& seqs,
                                 torch::Tensor& mask) const {
  std::size_t len = 1;
  for (const auto* s : seqs) len = std::max(len, s->size());
  const auto n = static_cast<std::int64_t>(seqs.size());
  const auto t = static_cast<std::int64_t>(len);
  torch::Tensor ids = torch::full({n, t}, pad_id_, torch::kLong);
  mask = torch::zeros({n, t}, torch::kLong);
  auto ia = ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& s = *seqs[static_cast<std::size_t>(i)];
    for (std::size_t j = 0; j < s.size(); ++j) {
      ia[i][static_cast<std::int64_t>(j)] = s[j];
      ma[i][static_cast<std::int64_t>(j)] = 1;
    }
  }
  return ids;
}

torch::Tensor Trainer::encode_docs(const std::vector<std::size_t>& doc_ids) {
  std::vector<const std::vector<std::int64_t>*> seqs;
  for (std::size_t d : doc_ids) seqs.push_back(&doc_tokens_[d]);
  torch::Tensor mask;
  torch::Tensor ids = batch_ids(seqs, mask);
  return model_->sparse_forward(ids, mask, token_mask_,
                                o_.pooling == "l0" ? ed::PoolKind::kL0 : ed::PoolKind::kLog1pRelu);
}

// One optimizer step over grad_accum micro-batches; returns the loss-curve row.
json Trainer::train_step(std::int64_t step) {
  const std::size_t n_train = data_.train.size();
  const std::size_t per_step = o_.batch_size * o_.grad_accum;
  const std::size_t group = 1 + o_.hard_negatives;
  const auto lr = learning_rate(o_, step);
  for (std::size_t g = 0; g < opt_->param_groups().size(); ++g) {
    static_cast<torch::optim::AdamWOptions&>(opt_->param_groups()[g].options())
        .lr(lr * group_lr_scale_[g]);
  }
  opt_->zero_grad();
  const double lambda_d = ed::flops_lambda(o_.flops_doc, step, o_.flops_warmup_steps);
  const double lambda_q = ed::flops_lambda(o_.flops_query, step, o_.flops_warmup_steps);
  double sum_loss = 0, sum_nce = 0, sum_flops = 0, sum_kl = 0, sum_nnz = 0;
  for (std::size_t micro = 0; micro < o_.grad_accum; ++micro) {
    // Dropout masks depend only on (seed, step, micro): resume reproduces them exactly.
    torch::manual_seed(mix_seed(o_.seed, 1, static_cast<std::uint64_t>(step), micro));
    std::mt19937_64 rng(mix_seed(o_.seed, 2, static_cast<std::uint64_t>(step), micro));
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < o_.batch_size; ++i) {
      // Global example cursor -> (epoch, position) in that epoch's seeded permutation.
      const std::uint64_t cursor = static_cast<std::uint64_t>(step) * per_step +
                                   micro * o_.batch_size + i;
      const std::uint64_t epoch = cursor / n_train;
      thread_local std::uint64_t perm_epoch = ~0ULL;
      thread_local std::vector<std::size_t> perm;
      if (perm_epoch != epoch || perm.size() != n_train) {
        perm.resize(n_train);
        std::iota(perm.begin(), perm.end(), 0);
        std::mt19937_64 prng(mix_seed(o_.seed, 3, epoch));
        std::shuffle(perm.begin(), perm.end(), prng);
        perm_epoch = epoch;
      }
      rows.push_back(perm[cursor % n_train]);
    }
    // Documents: per row the positive, then hard negatives, padded with random corpus documents.
    std::vector<std::size_t> docs;
    std::uniform_int_distribution<std::size_t> pick(0, data_.docs.size() - 1);
    for (std::size_t r : rows) {
      const synth::Triple& t = data_.train[r];
      const std::size_t pos = data_.doc_index.at(t.positive_id);
      docs.push_back(pos);
      std::size_t added = 0;
      for (const std::string& neg : t.negative_ids) {
        if (added == o_.hard_negatives) break;
        auto it = data_.doc_index.find(neg);
        if (it == data_.doc_index.end() || it->second == pos) continue;
        docs.push_back(it->second);
        ++added;
      }
      for (int tries = 0; added < o_.hard_negatives; ++tries) {
        const std::size_t d = pick(rng);
        if (d == pos && data_.docs.size() > 1 && tries < 100) continue;
        docs.push_back(d);
        ++added;
      }
    }
    torch::Tensor doc_w = encode_docs(docs);  // [B*group, V]
    const auto b = static_cast<std::int64_t>(rows.size());
    torch::Tensor q;
    if (o_.mode == "siamese") {
      std::vector<const std::vector<std::int64_t>*> seqs;
      for (std::size_t r : rows) seqs.push_back(&query_tokens_[r]);
      torch::Tensor mask;
      torch::Tensor ids = batch_ids(seqs, mask);
      q = model_->sparse_forward(ids, mask, token_mask_,
                                 o_.pooling == "l0" ? ed::PoolKind::kL0
                                                    : ed::PoolKind::kLog1pRelu);
    } else {
      torch::Tensor presence = torch::zeros({b, vocab_});
      auto pa = presence.accessor<float, 2>();
      for (std::int64_t i = 0; i < b; ++i)
        for (std::int64_t id : query_tokens_[rows[static_cast<std::size_t>(i)]]) pa[i][id] = 1.0f;
      q = presence * (idf_param_.defined() ? torch::relu(idf_param_) : idf_);
    }
    torch::Tensor scores = torch::matmul(q, doc_w.t());  // [B, B*group]
    const auto g = static_cast<std::int64_t>(group);
    // Own group columns: [B, group] with the positive first.
    torch::Tensor own_idx = (torch::arange(b).unsqueeze(1) * g + torch::arange(g).unsqueeze(0));
    torch::Tensor own = scores.gather(1, own_idx);
    torch::Tensor nce_scores = own;
    if (o_.in_batch_negatives && b > 1) {
      // Column order per row: own group (positive first), then every other row's documents.
      std::vector<std::int64_t> order;
      order.reserve(static_cast<std::size_t>(b * b * g));
      for (std::int64_t i = 0; i < b; ++i) {
        for (std::int64_t j = 0; j < g; ++j) order.push_back(i * g + j);
        for (std::int64_t c = 0; c < b * g; ++c)
          if (c / g != i) order.push_back(c);
      }
      nce_scores = scores.gather(1, torch::tensor(order).view({b, b * g}));
    }
    torch::Tensor nce = ed::info_nce_loss(nce_scores, o_.temperature);
    torch::Tensor flops =
        ed::flops_loss(doc_w, o_.flops_idf_aware ? idf_ : torch::Tensor()) * lambda_d;
    if (o_.mode == "siamese" && lambda_q > 0) flops = flops + ed::flops_loss(q) * lambda_q;
    torch::Tensor loss = nce + flops;
    double kl_value = 0.0;
    if (teacher_ && o_.distill_weight > 0) {
      std::vector<float> ts;
      for (std::int64_t i = 0; i < b; ++i) {
        const std::size_t r = rows[static_cast<std::size_t>(i)];
        for (std::int64_t j = 0; j < g; ++j)
          ts.push_back(teacher_->score(teacher_queries_[r],
                                       data_.docs[docs[static_cast<std::size_t>(i * g + j)]].id));
      }
      torch::Tensor kl = ed::kl_distill_loss(own, torch::tensor(ts).view({b, g}));
      kl_value = kl.item<double>();
      loss = loss + kl * o_.distill_weight;
    }
    (loss / static_cast<double>(o_.grad_accum)).backward();
    sum_loss += loss.item<double>();
    sum_nce += nce.item<double>();
    sum_flops += flops.item<double>();
    sum_kl += kl_value;
    sum_nnz += (doc_w > 0).sum().item<double>() / static_cast<double>(doc_w.size(0));
  }
  if (o_.clip_norm > 0) {
    std::vector<torch::Tensor> params = model_->parameters();
    if (idf_param_.defined()) params.push_back(idf_param_);
    torch::nn::utils::clip_grad_norm_(params, o_.clip_norm);
  }
  opt_->step();
  const double n = static_cast<double>(o_.grad_accum);
  return {{"step", step + 1},         {"loss", sum_loss / n}, {"nce", sum_nce / n},
          {"flops", sum_flops / n},   {"kl", sum_kl / n},     {"lr", lr},
          {"flops_lambda", lambda_d}, {"doc_nnz", sum_nnz / n}};
}

std::vector<float> Trainer::current_idf() const {
  if (!idf_param_.defined()) return enc_->idf();
  torch::Tensor v = torch::relu(idf_param_.detach()).contiguous();
  return std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
}

double Trainer::validate_ndcg() {
  if (data_.valid_queries.empty()) return -1.0;
  if (idf_param_.defined()) enc_->set_idf(current_idf());
  model_->eval();  // no dropout while encoding the corpus
  SparseIndexOptions so_index;
  so_index.encode.batch_size = 32;
  so_index.encode.max_length = o_.max_length;
  const InvertedIndex index = build_impact_index(*enc_, data_.docs, so_index);
  std::vector<std::string> ids;
  std::vector<SparseVector> queries;
  for (const Query& q : data_.valid_queries) {
    ids.push_back(q.id);
    queries.push_back(index_query(index, *enc_, q.text));
  }
  SearchOptions so;
  so.k = 10;
  const auto hits = batch_search(index, queries, so, static_cast<unsigned>(std::max(1, o_.threads)));
  model_->train();
  const EvalResult r =
      evaluate(data_.valid_qrels, hits_to_run(index, ids, hits), {parse_metric("ndcg@10")});
  return r.mean.at(0);
}

void Trainer::save_checkpoint(const Checkpoint& c) {
  const std::string name = "step-" + std::to_string(c.step);
  const fs::path tmp = ckpt_dir_ / (".tmp-" + name);
  const fs::path dst = ckpt_dir_ / name;
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  torch::save(model_, (tmp / "model.pt").string());
  {
    torch::serialize::OutputArchive a;
    opt_->save(a);
    a.save_to((tmp / "optimizer.pt").string());
  }
  if (idf_param_.defined()) torch::save(idf_param_.detach(), (tmp / "idf.pt").string());
  {
    std::ofstream out(tmp / "state.json");
    out << checkpoint_json(c).dump(2) << '\n';
    if (!out) throw IoError("cannot write " + (tmp / "state.json").string());
  }
  for (const char* f : {"model.pt", "optimizer.pt", "state.json", "idf.pt"})
    if (fs::exists(tmp / f)) fsync_path(tmp / f);
  fs::remove_all(dst);
  fs::rename(tmp, dst);
  fsync_path(ckpt_dir_);
  write_text_durable(ckpt_dir_ / "latest.json", json{{"checkpoint", name}, {"step", c.step}}.dump());
  // Keep the newest keep_checkpoints step directories.
  std::vector<std::pair<std::int64_t, fs::path>> all;
  for (const auto& e : fs::directory_iterator(ckpt_dir_)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && n.rfind("step-", 0) == 0)
      all.emplace_back(std::stoll(n.substr(5)), e.path());
  }
  std::sort(all.rbegin(), all.rend());
  for (std::size_t i = o_.keep_checkpoints; i < all.size(); ++i) fs::remove_all(all[i].second);
}

std::optional<Checkpoint> Trainer::load_latest_checkpoint() {
  const fs::path latest = ckpt_dir_ / "latest.json";
  if (!fs::exists(latest)) return std::nullopt;
  const json l = read_json_file(latest);
  const fs::path dir = ckpt_dir_ / l.at("checkpoint").get<std::string>();
  Checkpoint c;
  try {
    c = checkpoint_from_json(read_json_file(dir / "state.json"));
    torch::load(model_, (dir / "model.pt").string());
    torch::serialize::InputArchive a;
    a.load_from((dir / "optimizer.pt").string());
    opt_->load(a);
    if (idf_param_.defined()) {
      torch::Tensor v;
      torch::load(v, (dir / "idf.pt").string());
      torch::NoGradGuard ng;
      idf_param_.copy_(v);
    }
  } catch (const c10::Error& e) {
    throw IoError("cannot load checkpoint " + dir.string() + ": " + e.what_without_backtrace() +
                  "; the options must match the run that wrote it (or delete " +
                  ckpt_dir_.string() + " to start over)");
  }
  return c;
}

void Trainer::save_best() {
  const fs::path tmp = ckpt_dir_ / ".tmp-best";
  const fs::path dst = ckpt_dir_ / "best";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  torch::save(model_, (tmp / "model.pt").string());
  if (idf_param_.defined()) torch::save(idf_param_.detach(), (tmp / "idf.pt").string());
  for (const char* f : {"model.pt", "idf.pt"})
    if (fs::exists(tmp / f)) fsync_path(tmp / f);
  fs::remove_all(dst);
  fs::rename(tmp, dst);
  fsync_path(ckpt_dir_);
}

void Trainer::load_best() {
  const fs::path dir = ckpt_dir_ / "best";
  torch::load(model_, (dir / "model.pt").string());
  if (idf_param_.defined()) {
    torch::Tensor v;
    torch::load(v, (dir / "idf.pt").string());
    torch::NoGradGuard ng;
    idf_param_.copy_(v);
  }
}

// After a resume, rows logged after the checkpoint belong to a future that is recomputed.
void Trainer::truncate_loss_curve(std::int64_t step) {
  const fs::path path = out_ / "loss_curve.jsonl";
  std::string kept;
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json row;
      try {
        row = json::parse(line);
      } catch (const json::exception&) {
        break;  // a torn last line from the kill
      }
      if (row.value("step", std::int64_t{0}) > step) break;
      kept += line + "\n";
    }
  }
  write_text_durable(path, kept);
}

void Trainer::append_curve(const json& row) {
  std::ofstream out(out_ / "loss_curve.jsonl", std::ios::app);
  out << row.dump() << '\n';
}

TrainResult Trainer::run() {
  o_.validate();
  const auto t0 = Clock::now();
  const int threads = o_.threads > 0 ? o_.threads
                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  o_.threads = threads;
  fs::create_directories(ckpt_dir_);
  if (!o_.resume) {
    fs::remove_all(ckpt_dir_);
    fs::create_directories(ckpt_dir_);
    fs::remove(out_ / "loss_curve.jsonl");
  }
  data_ = load_data(triples_path_, corpus_path_, o_);
  setup_model();
  setup_optimizer();
  model_->train();

  TrainResult result;
  result.train_triples = data_.train.size();
  result.valid_queries = data_.valid_queries.size();
  Checkpoint state;
  if (auto c = o_.resume ? load_latest_checkpoint() : std::nullopt) {
    state = *c;
    result.resumed_from = state.step;
    spdlog::info("resuming from checkpoint at step {} of {}", state.step, o_.max_steps);
  }
  truncate_loss_curve(state.step);
  spdlog::info(
      "training on {} triples ({} validation queries), vocab {}, {} threads, {} steps of {}x{}",
      data_.train.size(), data_.valid_queries.size(), vocab_, threads, o_.max_steps,
      o_.batch_size, o_.grad_accum);

  // Training steps keep freed memory for the next step (the same large shapes every step).
  // Validation encodes batches of other shapes, which would fragment a retaining heap: it runs with
  // glibc's defaults, and what the steps kept goes back to the kernel first.
  std::optional<RetainFreedMemory> retain(std::in_place, o_.retain_freed_memory);
  const auto loop_t0 = Clock::now();
  const std::int64_t first = state.step;
  double window_loss = 0;
  int window_n = 0;
  std::size_t zero_steps = 0;  // consecutive steps with all-zero document vectors
  while (state.step < o_.max_steps) {
    const auto step_t0 = Clock::now();
    const json row = train_step(state.step);
    const double step_secs = std::chrono::duration<double>(Clock::now() - step_t0).count();
    result.step_seconds += step_secs;
    if (result.fastest_step_seconds == 0.0 || step_secs < result.fastest_step_seconds)
      result.fastest_step_seconds = step_secs;
    ++state.step;
    state.last_loss = row["loss"].get<double>();
    zero_steps = row["doc_nnz"].get<double>() > 0.0 ? 0 : zero_steps + 1;
    if (o_.collapse_steps > 0 && zero_steps >= o_.collapse_steps) {
      append_curve(row);
      throw ModelError(
          "training collapsed at step " + std::to_string(state.step) + ": every document vector "
          "has been all-zero for " + std::to_string(zero_steps) + " steps (the FLOPS penalty "
          "overwhelmed the ranking loss). Lower [train] lr (now " + fmt::format("{:g}", o_.lr) +
          ") or flops_doc (now " + fmt::format("{:g}", o_.flops_doc) + "), or raise flops_warmup_steps (now " +
          std::to_string(o_.flops_warmup_steps) + "); the checkpoints before the collapse are in " +
          ckpt_dir_.string() + " (collapse_steps = 0 turns this check off)");
    }
    window_loss += state.last_loss;
    ++window_n;
    if (state.step % o_.log_every == 0 || state.step == o_.max_steps) {
      append_curve(row);
      const double secs = std::chrono::duration<double>(Clock::now() - loop_t0).count();
      const double rate = static_cast<double>(state.step - first) / std::max(secs, 1e-9);
      spdlog::info("step {}/{} loss {:.4f} (nce {:.4f} flops {:.4f} kl {:.4f}) lr {:.2e} doc nnz "
                   "{:.0f} {:.2f} steps/s ETA {}",
                   state.step, o_.max_steps, window_loss / window_n, row["nce"].get<double>(),
                   row["flops"].get<double>(), row["kl"].get<double>(), row["lr"].get<double>(),
                   row["doc_nnz"].get<double>(), rate,
                   Progress::format_duration(static_cast<double>(o_.max_steps - state.step) / rate));
      window_loss = 0;
      window_n = 0;
    }
    const bool last = state.step == o_.max_steps;
    const bool eval_now = !data_.valid_queries.empty() &&
                          (last || (o_.eval_every > 0 && state.step % o_.eval_every == 0));
    if (eval_now) {
      retain.reset();
      const double ndcg = validate_ndcg();
      retain.emplace(o_.retain_freed_memory);
      append_curve({{"step", state.step}, {"valid_ndcg@10", ndcg}});
      spdlog::info("step {}: validation nDCG@10 {:.4f} over {} queries (best {:.4f})", state.step,
                   ndcg, data_.valid_queries.size(), std::max(state.best_ndcg, ndcg));
      if (ndcg > state.best_ndcg) {
        state.best_ndcg = ndcg;
        state.best_step = state.step;
        state.evals_since_best = 0;
        save_best();
      } else {
        ++state.evals_since_best;
      }
    }
    const bool stop = o_.patience > 0 && state.evals_since_best >= o_.patience;
    if (last || stop || (o_.checkpoint_every > 0 && state.step % o_.checkpoint_every == 0))
      save_checkpoint(state);
    if (stop) {
      result.early_stopped = true;
      spdlog::info("early stopping at step {}: no nDCG@10 gain for {} validations", state.step,
                   o_.patience);
      break;
    }
  }
  result.steps = state.step;
  result.final_loss = state.last_loss;
  result.best_valid_ndcg = state.best_ndcg;
  result.best_step = state.best_step >= 0 ? state.best_step : state.step;
  if (state.best_step >= 0) load_best();
  if (idf_param_.defined()) enc_->set_idf(current_idf());
  model_->eval();
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const json config = {{"train", o_.to_json()},
                       {"triples", fs::absolute(triples_path_).string()},
                       {"corpus", fs::absolute(corpus_path_).string()}};
  enc_->save(out_, config, result.to_json());
  const fs::path valid_dir = out_ / "validation";
  JsonlWriter valid_queries(valid_dir / "queries.jsonl");
  for (const Query& q : data_.valid_queries) valid_queries.write(q);
  valid_queries.close();
  write_qrels(valid_dir / "qrels.tsv", data_.valid_qrels);
  Manifest m = make_manifest("encoder-train", config);
  m.inputs = {describe_file(triples_path_), describe_file(corpus_path_)};
  m.outputs = {describe_file(out_ / "loss_curve.jsonl", out_),
               describe_file(valid_dir / "queries.jsonl", out_),
               describe_file(valid_dir / "qrels.tsv", out_)};
  m.stats = result.to_json();
  m.stats["data"] = data_.merge_stats;
  const json manifest = m.to_json();
  write_text_durable(out_ / "train_manifest.json", manifest.dump(2) + "\n");
  return result;
}

}  // namespace

TrainResult train_encoder(const fs::path& triples, const fs::path& corpus, const fs::path& out_dir,
                          const TrainOptions& options) {
  options.validate();
  Trainer t(triples, corpus, out_dir, options);
  return t.run();
}

ValidationSet read_validation_set(const fs::path& model_dir) {
  const fs::path dir = model_dir / "validation";
  if (!fs::exists(dir / "queries.jsonl") || !fs::exists(dir / "qrels.tsv")) {
    throw IoError(dir.string() + ": no validation queries (queries.jsonl, qrels.tsv); the model " +
                  "was trained by an older ksparse: train it again");
  }
  ValidationSet v;
  v.queries = read_queries(dir / "queries.jsonl");
  v.qrels = read_qrels(dir / "qrels.tsv");
  return v;
}

}  // namespace ksparse
