// SparseEncoder: a learned sparse (SPLADE / OpenSearch neural-sparse) encoder. Documents go
// through a BERT masked-LM; their weights are log(1 + relu(logits)) max-pooled over positions
// (special tokens zero). Queries are either not encoded at all ("doc-only" / inference-free mode:
// one weight per distinct query token = relu(idf[token])) or encoded like documents ("siamese").
//
// Vectors are SparseVector over the tokenizer's vocabulary ids (TermId = WordPiece id); term_weights()
// turns one into token strings (OpenSearch rank_features / neural_sparse query_tokens).
//
// A model directory is a Hugging Face-style folder that `transformers` loads as BertForMaskedLM:
//   config.json              BertConfig (architectures ["BertForMaskedLM"], model_type "bert")
//   model.safetensors        F32 weights under HF names, cls.predictions.decoder.weight included
//   vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json
//   idf.json                 token -> idf (doc-only mode; OpenSearch's format)
//   manifest.json            kind "sparse_encoder": config = {settings, bert}; stats
// load() also reads folders without manifest.json (e.g. a downloaded HF BERT/DistilBERT
// checkpoint, config.json + model.safetensors + vocab.txt or tokenizer.json): mode is then doc-only
// when idf.json exists, siamese otherwise; a checkpoint without an MLM head gets a fresh one;
// DistilBertForMaskedLM names are mapped onto BERT's; tokens missing from a foreign idf.json weigh
// 1 (as in OpenSearch's training sample), from our own 0.
//
// Thread-safety: const members may be called concurrently only if no non-const member runs; each
// encode call uses libtorch's intra-op thread pool. Move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ksparse/encoder/bert_config.h"
#include "ksparse/encoder/wordpiece.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

enum class EncoderMode {
  kDocOnly,  // inference-free: query weight = relu(idf[token]) per distinct query token
  kSiamese,  // queries encoded by the model, like documents
};
enum class SparsePooling {
  kLog1pRelu,  // log(1 + relu(x))
  kL0,         // log(1 + log(1 + relu(x))) (OpenSearch v3 "L0" activation)
};

// "doc-only" | "siamese"; parse throws ConfigError naming the value.
std::string encoder_mode_name(EncoderMode mode);
EncoderMode parse_encoder_mode(std::string_view name);
// "log1p_relu" | "l0"
std::string sparse_pooling_name(SparsePooling pooling);
SparsePooling parse_sparse_pooling(std::string_view name);

// What a model directory stores besides the network (manifest.json config.settings).
struct SparseEncoderSettings {
  EncoderMode mode = EncoderMode::kDocOnly;
  SparsePooling pooling = SparsePooling::kLog1pRelu;
  std::size_t max_length = 256;  // default document length in tokens, [CLS]/[SEP] included; >= 2

  void validate() const;  // throws ConfigError
  nlohmann::json to_json() const;
  static SparseEncoderSettings from_json(const nlohmann::json& j);  // ConfigError naming the key
};

struct DocumentEncodeOptions {
  std::size_t batch_size = 16;  // documents per forward pass; >= 1
  std::size_t max_length = 0;   // tokens per document incl. [CLS]/[SEP]; 0 = settings().max_length
  std::size_t top_k = 0;        // keep only the k largest weights per document; 0 keeps all
  float threshold = 0.0f;       // drop weights <= threshold (weights are >= 0; 0 drops zeros only)
  bool show_progress = false;   // progress (docs/s, ETA) on stderr

  void validate() const;  // throws ConfigError
};

class SparseEncoder {
 public:
  // A fresh, randomly initialised (seeded) model over `tokenizer`'s vocabulary (config.vocab_size
  // is set from it; pad_token_id from the tokenizer's [PAD]). `idf` (empty, or one value per vocab
  // id) is stored for doc-only queries; when non-empty and `lexical_prior` is true the MLM head is
  // initialised so that the untrained model weights each document token by its idf (see
  // src/encoder/bert_model.cpp, init_lexical_prior). Throws ConfigError.
  static SparseEncoder create(WordPieceTokenizer tokenizer, BertConfig config,
                              SparseEncoderSettings settings, std::vector<float> idf = {},
                              bool lexical_prior = true, std::uint64_t seed = 13);
  // Reads a model directory (see above). Throws IoError / ModelError naming the file and tensor.
  static SparseEncoder load(const std::filesystem::path& model_dir);
  // Writes every file of a model directory (creating `model_dir`, overwriting those files).
  // `extra_config` / `stats` go into the manifest next to the settings and BertConfig (e.g. the
  // training options and results). Throws IoError.
  void save(const std::filesystem::path& model_dir,
            const nlohmann::json& extra_config = nlohmann::json::object(),
            const nlohmann::json& stats = nlohmann::json::object()) const;

  SparseEncoder(SparseEncoder&&) noexcept;
  SparseEncoder& operator=(SparseEncoder&&) noexcept;
  ~SparseEncoder();

  // One SparseVector per text (same order), term ids = vocabulary ids. Within windows of 32
  // batches texts are grouped by length. Deterministic: the same call gives bit-identical vectors;
  // a document's vector depends on its batch only through float rounding of padded matmuls.
  std::vector<SparseVector> encode_documents(const std::vector<std::string>& texts,
                                             const DocumentEncodeOptions& options = {}) const;
  // Doc-only: relu(idf[id]) for each distinct non-special token of `text` (tokenized with
  // max_length = settings().max_length); ModelError if the model has no idf. Siamese: the text
  // encoded as a document (no pruning).
  SparseVector query_weights(std::string_view text) const;
  // (token string, weight) per entry, in term-id order.
  std::vector<std::pair<std::string, float>> term_weights(const SparseVector& v) const;

  const WordPieceTokenizer& tokenizer() const;
  const BertConfig& config() const;
  const SparseEncoderSettings& settings() const;
  void set_settings(const SparseEncoderSettings& settings);  // validates
  // Per vocabulary id; empty when the model has none.
  const std::vector<float>& idf() const;
  void set_idf(std::vector<float> idf);  // empty, or size == vocab size (DataError otherwise)

  // Internal state (libtorch module, tokenizer, idf). Defined in src/encoder/sparse_encoder_internal.h;
  // for code inside src/encoder only (the trainer).
  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit SparseEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// IDF over subword tokens (special tokens excluded; each text tokenized with `max_length`, 0 = no
// truncation): idf[t] = ln(1 + (N - df_t + 0.5) / (df_t + 0.5)) with N = texts.size() and df_t the
// number of texts containing t. Tokens that never occur get ln(1 + (N + 0.5) / 0.5). Special
// tokens get 0. Throws DataError when `texts` is empty.
std::vector<float> compute_idf(const WordPieceTokenizer& tokenizer,
                               const std::vector<std::string>& texts, std::size_t max_length = 0);

// idf.json: {"token": idf, ...} over the whole vocabulary (OpenSearch's format).
void write_idf_json(const std::filesystem::path& path, const WordPieceTokenizer& tokenizer,
                    const std::vector<float>& idf);
// Reads idf.json into a per-id vector; tokens not in the vocabulary are ignored, vocabulary tokens
// missing from the file get `missing_value`. Throws IoError / DataError (non-numeric value).
std::vector<float> read_idf_json(const std::filesystem::path& path,
                                 const WordPieceTokenizer& tokenizer, float missing_value = 0.0f);

}  // namespace ksparse
