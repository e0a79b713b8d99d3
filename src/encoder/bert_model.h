// Private to src/encoder: the libtorch BERT masked-LM model, sparse pooling and the training
// losses. No torch type leaves src/encoder; the public API
// (include/ksparse/encoder/sparse_encoder.h) wraps these in ksparse types.
//
// Parameter names follow Hugging Face BertForMaskedLM exactly (named_parameters() yields
// "bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight",
// ..., "cls.predictions.transform.dense.weight", "cls.predictions.bias"), so safetensors
// import/export is a name-for-name copy. The decoder weight is tied to the word embeddings and is
// not a separate parameter ("cls.predictions.decoder.weight" is written on export as a copy of the
// embeddings).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ksparse/encoder/bert_config.h"
#include "ksparse/encoder/sparse_encoder.h"

namespace ksparse::encoder::detail {

// The architecture struct is public (include/ksparse/encoder/bert_config.h, no torch types); this
// alias keeps detail::BertConfig valid.
using BertConfig = ::ksparse::BertConfig;

// BERT encoder + MLM head. forward(input_ids [B,T] int64, attention_mask [B,T] int64/bool) ->
// MLM logits [B,T,V] float32 (token_type_ids are all zero).
class BertForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit BertForMaskedLMImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  // sparse_pool(forward(input_ids, attention_mask), attention_mask, token_mask, kind) [B,V], with
  // the MLM bias added after the max over positions (same values, one [B,T,V] pass less).
  torch::Tensor sparse_forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                               const torch::Tensor& token_mask, SparsePooling kind);
  const BertConfig& config() const { return config_; }
  // Lexical prior: scales the position and token-type embeddings by 0.1 (so a random encoder's
  // hidden state keeps its input token's direction), gives every word-embedding row the same norm
  // (the tied decoder then scores all tokens on one scale) and re-initialises the MLM head
  // (transform.dense = I with bias 8 so GELU acts linearly, transform.LayerNorm gain and
  // cls.predictions.bias calibrated on random token sequences) so that the *logit* of token t at a
  // position holding t is ~prior[t] and every other token's logit is <= 0 up to ~6 standard
  // deviations. Pooled weights are therefore ~log1p(prior[t]) for the document's own tokens (a
  // monotone function of the prior) and 0 for the rest. Call it on a freshly initialised model
  // (it discards a pretrained head). Throws ConfigError for a prior that
  // is not [V] with a finite positive maximum, ModelError when the random encoder does not keep
  // token identity (see the calibration in bert_model.cpp).
  void init_lexical_prior(const torch::Tensor& prior /* [V] float */);
  // Calibration numbers of the last init_lexical_prior (self_logit_mean, other_logit_mean,
  // other_logit_std, gamma); null before.
  const nlohmann::json& lexical_prior_stats() const { return lexical_prior_stats_; }

 private:
  torch::Tensor logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                       bool with_bias);
  BertConfig config_;
  nlohmann::json lexical_prior_stats_;
  // Typed handles of the submodules registered under HF names: "bert" (embeddings, encoder) and
  // "cls" (predictions); defined in bert_model.cpp.
  struct Parts;
  std::shared_ptr<Parts> parts_;
};
TORCH_MODULE(BertForMaskedLM);

// Name -> tensor with HF names, including the tied "cls.predictions.decoder.weight".
std::map<std::string, torch::Tensor> state_dict_hf(BertForMaskedLM& model);
// Maps Hugging Face checkpoint names onto BertForMaskedLM names: BertModel names without the
// "bert." prefix, TF-style LayerNorm gamma/beta, and DistilBertForMaskedLM names (distilbert.
// transformer.layer.N.attention.q_lin -> bert.encoder.layer.N.attention.self.query, sa_layer_norm,
// ffn.lin1/lin2, output_layer_norm, vocab_transform/vocab_layer_norm/vocab_projector -> cls.*).
std::map<std::string, torch::Tensor> map_hf_names(
    const std::map<std::string, torch::Tensor>& tensors);
// Copies tensors (after map_hf_names) into the model's parameters, converting to float32. Ignored:
// cls.predictions.decoder.* (tied), bert.embeddings.position_ids, bert.pooler.*,
// cls.seq_relationship.*. A missing token-type embedding (DistilBERT) is zero-filled; missing
// cls.* tensors are allowed (left as initialised) when `allow_missing_head`. Throws ModelError
// naming missing/unexpected/mis-shaped tensors.
void load_state_dict_hf(BertForMaskedLM& model, const std::map<std::string, torch::Tensor>& tensors,
                        bool allow_missing_head = false);

// log(1+relu(x)); L0 variant log1p(log1p(relu(x))). Same enum as the public SparsePooling.
using PoolKind = ::ksparse::SparsePooling;

// Inverted dropout as torch::dropout (each element kept with probability 1 - p and scaled by
// 1 / (1 - p); identity when !training or p == 0), with the CPU float32 mask drawn from one 64-bit
// sample of the default CPU generator expanded by a counter-based hash and built in parallel:
// torch::manual_seed fixes it, and it is the same for any thread count.
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training);

// torch::bmm(a, b) [N,m,k] x [N,k,n] whose forward and backward run the N products in parallel
// over the batch on CPU float32 (libtorch 1.13's CPU bmm runs them serially, each small GEMM
// multithreaded, and slower on transposed views); other devices and dtypes use torch::bmm.
torch::Tensor parallel_bmm(const torch::Tensor& a, const torch::Tensor& b);

// Sparse pooling: max over positions of f(logits + bias) where attention_mask is 1; `token_mask`
// [V] float (1 keep, 0 drop) zeroes special tokens; `bias` [V] (optional) is added after the max.
// Returns [B,V].
torch::Tensor sparse_pool(const torch::Tensor& logits, const torch::Tensor& attention_mask,
                          const torch::Tensor& token_mask, PoolKind kind = PoolKind::kLog1pRelu,
                          const torch::Tensor& bias = {});

// InfoNCE over scores [B, C] where column 0 is the positive (in-batch negatives are extra columns
// the caller concatenates): mean over rows of -log softmax(scores / temperature)[0].
torch::Tensor info_nce_loss(const torch::Tensor& scores, double temperature = 1.0);
// KL(teacher || student), mean over rows: p = softmax(teacher_scale * minmax_row(teacher)) (a
// constant row gives a uniform p; teacher gets no gradient), log q = log_softmax(student).
torch::Tensor kl_distill_loss(const torch::Tensor& student_scores,
                              const torch::Tensor& teacher_scores, double teacher_scale = 1.0);
// FLOPS over doc weights [N,V]: sum_j (mean_i |w_ij|)^2. With `idf` [V] defined, the IDF-aware form
// (after arXiv 2411.04403): sum_j (mean_i |w_ij|)^2 / max(idf_j, min_idf) — frequent tokens pay
// more, rare ones less. See bert_model.cpp for why.
torch::Tensor flops_loss(const torch::Tensor& doc_weights, const torch::Tensor& idf = {},
                         double min_idf = 0.1);
// Quadratic warm-up of the FLOPS weight: lambda * min(1, step / T)^2 (step counted from 0: step 0
// gives 0; T <= 0 gives lambda from the start).
double flops_lambda(double lambda, int64_t step, int64_t warmup_steps);

}  // namespace ksparse::encoder::detail
