// Private to src/encoder: the libtorch BERT masked-LM model, sparse pooling and the training losses.
// No torch type leaves src/encoder; the public API (include/ksparse/encoder/sparse_encoder.h) wraps
// these in ksparse types.
//
// Parameter names follow Hugging Face BertForMaskedLM exactly (named_parameters() yields
// "bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight", ...,
// "cls.predictions.transform.dense.weight", "cls.predictions.bias"), so safetensors import/export is
// a name-for-name copy. The decoder weight is tied to the word embeddings and is not a separate
// parameter ("cls.predictions.decoder.weight" is written on export as a copy of the embeddings).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

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
  const BertConfig& config() const { return config_; }
  // Lexical prior (see bert_model.cpp): make an untrained model's pooled weight for token t in a
  // document containing t approximately `prior[t]` (e.g. IDF), and small elsewhere.
  void init_lexical_prior(const torch::Tensor& prior /* [V] float */);

 private:
  BertConfig config_;
  // submodules registered under HF names: "bert" (embeddings, encoder), "cls" (predictions)
};
TORCH_MODULE(BertForMaskedLM);

// Name -> tensor with HF names, including the tied "cls.predictions.decoder.weight".
std::map<std::string, torch::Tensor> state_dict_hf(BertForMaskedLM& model);
// Copies tensors by name; throws ModelError naming missing/unexpected/mis-shaped tensors.
void load_state_dict_hf(BertForMaskedLM& model, const std::map<std::string, torch::Tensor>& tensors);

// log(1+relu(x)); L0 variant log1p(log1p(relu(x))). Same enum as the public SparsePooling.
using PoolKind = ::ksparse::SparsePooling;

// Sparse pooling: max over positions of f(logits) where attention_mask is 1; `token_mask` [V] float
// (1 keep, 0 drop) zeroes special tokens. Returns [B,V].
torch::Tensor sparse_pool(const torch::Tensor& logits, const torch::Tensor& attention_mask,
                          const torch::Tensor& token_mask, PoolKind kind = PoolKind::kLog1pRelu);

// InfoNCE over scores [B, C] where column 0 is the positive (in-batch negatives are extra columns
// the caller concatenates): mean over rows of -log softmax(scores / temperature)[0].
torch::Tensor info_nce_loss(const torch::Tensor& scores, double temperature = 1.0);
// KL(teacher || student) with teacher scores min-max normalised per row, both softmaxed.
torch::Tensor kl_distill_loss(const torch::Tensor& student_scores, const torch::Tensor& teacher_scores);
// FLOPS: sum_j (mean_i w_ij)^2 over doc weights [N,V]; `idf` [V] (optional, defined => IDF-aware:
// each column weighted by idf_j / max idf ... see bert_model.cpp for the exact form and citation).
torch::Tensor flops_loss(const torch::Tensor& doc_weights, const torch::Tensor& idf = {});
// Quadratic warm-up of the FLOPS weight: lambda * min(1, step / T)^2.
double flops_lambda(double lambda, int64_t step, int64_t warmup_steps);

}  // namespace ksparse::encoder::detail
