// Training a neural sparse encoder (OpenSearch-style inference-free doc-only, or siamese) from
// (query, positive, hard negatives) triples over a BEIR corpus.
//
// Recipe (see ../shared/docs/anchors.md and src/encoder/trainer.cpp for citations):
//   documents -> BERT + MLM head -> log(1 + relu(logits)) max-pooled over positions (special tokens
//   zeroed); queries -> IDF weight of each distinct query token (doc-only; optionally a learned
//   IDF vector) or the same encoder (siamese). Loss = InfoNCE over the positive, the triple's hard
//   negatives and (optionally) every other document of the batch + FLOPS regulariser on documents
//   (and on queries in siamese mode) with a quadratic warm-up + optional KL distillation from BM25
//   teacher scores. AdamW, linear warm-up then linear decay, gradient clipping, accumulation.
//
// Data: triples JSONL (synth::read_triples; `source` real|synthetic) are split into real and
// synthetic, mixed at `synthetic_per_real` with a real-only validation split (synth::merge_triples);
// validation nDCG@10 over the whole corpus drives early stopping and the choice of the final model.
//
// Output directory (MODEL_DIR):
//   config.json model.safetensors vocab.txt tokenizer.json idf.json   the HF folder (SparseEncoder)
//   loss_curve.jsonl   one object per logged step {"step","loss","nce","flops","kl","lr",...} and
//                      per evaluation {"step","valid_ndcg@10"}
//   validation/queries.jsonl, validation/qrels.tsv   the real queries held out for validation
//                      (BEIR format): what early stopping used, and what callers tune on instead
//                      of test queries
//   train_manifest.json  kind "encoder-train": resolved options, inputs with sha256, stats
//   checkpoints/step-<N>/  model.pt optimizer.pt [idf.pt] state.json   written atomically (tmp dir
//                      + rename); checkpoints/latest.json names the newest complete one
//   checkpoints/best/  parameters of the best validation model so far
//   checkpoints/tokenizer/  the vocabulary trained on the first run (reused on resume)
//
// Determinism: with the same options (threads included) a run is bit-reproducible; a run killed
// at any point and restarted with resume = true continues from the newest complete checkpoint and
// ends with the same parameters and loss curve as an uninterrupted run. Dropout masks are seeded
// per step (seed, step, micro-batch) and the data order per epoch (seed, epoch), so the checkpoint
// only has to carry parameters, optimizer moments, the step and the early-stopping state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ksparse/core/config.h"
#include "ksparse/core/io.h"

namespace ksparse {

struct TrainOptions {
  // --- data ---
  // Synthetic triples per real training triple (synth::MergeOptions); 0 = real only.
  double synthetic_per_real = 1.0;
  // Share of real query ids held out (real-only) for validation, 0 disables validation.
  double validation_fraction = 0.1;
  // Validation queries actually evaluated (the first N of the held-out set); 0 = all.
  std::size_t max_validation_queries = 300;
  // Drop synthetic triples whose passage is a validation positive (synth::MergeOptions::
  // exclude_validation_docs). true: validation measures passages without synthetic queries.
  // false: validation passages keep their synthetic queries, as every test passage does when
  // synthetic queries are generated for the whole corpus; the validation queries stay real and
  // held out either way.
  bool exclude_validation_docs = true;

  // --- model ---
  // HF-style model folder to start from (SparseEncoder::load); empty = from scratch with a
  // WordPiece vocabulary trained on the corpus (and training queries).
  std::filesystem::path init_model;
  std::size_t vocab_size = 8000;          // from scratch: WordPiece vocabulary size
  std::size_t vocab_min_frequency = 2;    // from scratch: WordPieceTrainerOptions::min_frequency
  std::int64_t hidden_size = 128;         // from scratch: BertConfig fields
  std::int64_t num_layers = 2;
  std::int64_t num_heads = 2;
  std::int64_t intermediate_size = 512;
  double dropout = 0.1;                   // hidden and attention dropout
  // From scratch: initialise the MLM head so that an untrained model weights each document token
  // by its IDF (BertForMaskedLM::init_lexical_prior), i.e. starts near a BM25-like bag of words.
  bool lexical_prior = true;
  std::string mode = "doc-only";          // "doc-only" | "siamese"
  bool learn_idf = false;                 // doc-only: train the query-side IDF vector too
  std::string pooling = "log1p";          // "log1p" = log(1+relu(x)); "l0" = log1p(log1p(relu(x)))
  std::size_t max_length = 128;           // document tokens incl. [CLS]/[SEP]
  std::size_t max_query_length = 32;      // siamese query tokens incl. [CLS]/[SEP]

  // --- loss ---
  std::size_t batch_size = 16;            // queries per micro-batch
  std::size_t hard_negatives = 1;         // per query; padded with seeded random corpus documents
  bool in_batch_negatives = true;         // every other document of the micro-batch is a negative
  double temperature = 1.0;               // InfoNCE softmax temperature (> 0)
  double flops_doc = 0.05;                // FLOPS weight on documents (0 disables)
  double flops_query = 0.0;               // siamese: FLOPS weight on queries
  std::int64_t flops_warmup_steps = 200;  // lambda * min(1, step/T)^2; 0 = full weight at once
  bool flops_idf_aware = false;           // weight FLOPS columns by IDF (arXiv 2411.04403)
  std::string teacher = "none";           // "none" | "bm25": KL distillation teacher
  double distill_weight = 0.0;            // weight of the KL term (> 0 needs a teacher)

  // --- optimisation ---
  double lr = 5e-4;                       // peak learning rate (AdamW)
  // Learning-rate multiplier for the parameters that hold the lexical prior: the word embeddings
  // (tied to the MLM decoder) and the MLM head (cls.predictions.*). Adam moves every parameter by
  // ~lr per step whatever its gradient's size, so a rare token's embedding row moves as far as a
  // frequent one's and the prior's calibrated self-match erodes; < 1 slows that, 0 freezes them
  // (no gradient is computed for them) and only the transformer layers and position embeddings
  // learn.
  double prior_lr_scale = 1.0;
  double weight_decay = 0.01;             // not applied to biases and LayerNorm weights
  std::int64_t warmup_steps = 100;        // linear warm-up, then linear decay to 0 at max_steps
  std::int64_t max_steps = 1000;          // optimizer steps (>= 1)
  std::size_t grad_accum = 1;             // micro-batches per optimizer step (>= 1)
  double clip_norm = 1.0;                 // global gradient norm clip; 0 disables

  // --- run ---
  std::uint64_t seed = 13;
  int threads = 0;                        // torch intra-op threads; 0 = hardware concurrency
  // Keep freed heap memory in the process during training steps (RetainFreedMemory, glibc): the
  // step's large activations are then not page-faulted and zeroed again on every step. Costs the
  // steps' peak heap staying resident between validations (validation runs without it).
  bool retain_freed_memory = true;
  std::int64_t checkpoint_every = 100;    // steps between checkpoints; 0 = only at the end
  std::size_t keep_checkpoints = 2;       // newest step checkpoints kept (>= 1)
  std::int64_t eval_every = 100;          // steps between validations; 0 = only at the end
  // Stop after this many validations without improvement of nDCG@10; 0 disables early stopping.
  std::size_t patience = 0;
  // Stop with a ModelError after this many consecutive steps in which every document vector of the
  // batch is all-zero (FLOPS has driven the model to nothing; it does not come back); 0 = off.
  std::size_t collapse_steps = 20;
  std::int64_t log_every = 10;            // steps between loss log lines / loss_curve rows (>= 1)
  bool resume = true;                     // continue from MODEL_DIR/checkpoints when present

  void validate() const;  // throws ConfigError naming the field
  nlohmann::json to_json() const;
};

// Maps a [train] TOML table field for field (same names as the struct; unknown keys rejected).
TrainOptions train_options_from(const ConfigTable& table);

struct TrainResult {
  std::int64_t steps = 0;            // optimizer steps done in total (including before a resume)
  std::int64_t resumed_from = -1;    // checkpoint step resumed from; -1 = fresh start
  double final_loss = 0.0;           // total loss of the last optimizer step (mean of micro-batches)
  double best_valid_ndcg = -1.0;     // best validation nDCG@10; -1 when there was no validation
  std::int64_t best_step = -1;       // step of the exported model
  bool early_stopped = false;
  std::size_t train_triples = 0;     // after mixing
  std::size_t valid_queries = 0;
  double seconds = 0.0;              // wall time of this invocation
  // Wall time of this invocation's optimizer steps alone (forward, losses, backward, clipping,
  // AdamW; no data loading, validation or checkpoints): what bench_train_flops times.
  double step_seconds = 0.0;
  double fastest_step_seconds = 0.0;  // the quickest of those steps; 0 when none ran
  nlohmann::json to_json() const;
};

// Trains and writes MODEL_DIR (see above). Throws ConfigError (options), IoError/DataError (inputs,
// naming file:line), ModelError (init_model).
TrainResult train_encoder(const std::filesystem::path& triples,
                          const std::filesystem::path& corpus,
                          const std::filesystem::path& out_dir, const TrainOptions& options);

// The validation queries a training run held out (MODEL_DIR/validation/) with their qrels.
struct ValidationSet {
  std::vector<Query> queries;
  Qrels qrels;
};
// IoError when the files are missing (a model trained by an older version), DataError naming
// file:line when a line is malformed. Empty when the run had validation_fraction = 0.
ValidationSet read_validation_set(const std::filesystem::path& model_dir);

}  // namespace ksparse
