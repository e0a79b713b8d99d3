// Private to src/encoder: what a SparseEncoder holds, and the batching helpers the encoder and the
// trainer share.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bert_model.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/encoder/wordpiece.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

struct SparseEncoder::Impl {
  WordPieceTokenizer tokenizer;
  SparseEncoderSettings settings;
  std::vector<float> idf;                      // per vocab id, or empty
  encoder::detail::BertForMaskedLM model{nullptr};  // config() is the BertConfig
  torch::Tensor token_mask;                    // [V] float32: 0 for the tokenizer's special tokens
};

namespace encoder::detail {

// Padded batch: input_ids [B,T] int64 (pad id where attention_mask is 0), attention_mask [B,T]
// int64, T = longest encoding (with [CLS]/[SEP]) capped at max_length.
struct TokenBatch {
  torch::Tensor input_ids;
  torch::Tensor attention_mask;
};
TokenBatch tokenize_batch(const WordPieceTokenizer& tokenizer, const std::vector<std::string>& texts,
                          std::size_t max_length);

// [vocab_size] float32 (0 = the tokenizer's size): 1, or 0 for the tokenizer's special tokens (ids
// for which is_special() holds) and for ids the tokenizer does not have.
torch::Tensor special_token_mask(const WordPieceTokenizer& tokenizer, std::int64_t vocab_size = 0);

// One pooled row [V] -> SparseVector: entries with weight > threshold, then the top_k largest
// (0 = all; ties broken by smaller id).
SparseVector row_to_sparse_vector(const torch::Tensor& row, std::size_t top_k, float threshold);

}  // namespace encoder::detail
}  // namespace ksparse
