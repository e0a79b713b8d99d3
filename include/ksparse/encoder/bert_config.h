// Architecture of a BERT masked-LM encoder, as Hugging Face's BertConfig (config.json) spells it.
// A plain value type; no torch types.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ksparse {

struct BertConfig {
  std::int64_t vocab_size = 0;  // required (> 0); SparseEncoder::create fills it from the tokenizer
  std::int64_t hidden_size = 256;
  std::int64_t num_hidden_layers = 4;
  std::int64_t num_attention_heads = 4;  // must divide hidden_size
  std::int64_t intermediate_size = 1024;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  std::int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;           // [0, 1)
  double attention_probs_dropout_prob = 0.1;  // [0, 1)
  std::string hidden_act = "gelu";            // only "gelu" (exact erf GELU, as HF "gelu")

  void validate() const;  // throws ConfigError naming the field
  // HF config.json: these keys plus architectures = ["BertForMaskedLM"], model_type = "bert".
  nlohmann::json to_json() const;
  // Reads a BERT config.json (missing optional keys take the defaults above; vocab_size,
  // hidden_size, num_hidden_layers, num_attention_heads, intermediate_size are required), or a
  // DistilBERT one (model_type "distilbert": dim, n_layers, n_heads, hidden_dim, max_position_
  // embeddings, activation; it has no token-type embeddings, so type_vocab_size stays 2 and the
  // loader zero-fills them, which computes the same function). Throws ConfigError naming the key.
  static BertConfig from_json(const nlohmann::json& j);
};

}  // namespace ksparse
