// Text embeddings from a GGUF model run in-process by llama.cpp.
//
// Many texts go through one context with embeddings enabled: each text is one sequence, up to
// `n_parallel` sequences (and `n_batch` tokens) per llama_decode call, and llama.cpp pools every
// sequence's final hidden states (after the output norm) into one vector: the mean over its tokens
// or the last token's state. Vectors are L2-normalised, so a dot product is the cosine.
//
// A generative (causal) model is not trained for embeddings; mean pooling of its hidden states
// gives a usable but weak similarity signal. Note that llama.cpp outputs every token when
// embeddings are on, so the output projection (n_vocab wide) runs for every token: embedding
// costs more per token than prompt processing does.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ksparse/llm/model.h"

namespace ksparse::llm {

enum class Pooling {
  kMean,  // mean of the hidden states of all the text's tokens (BOS included)
  kLast,  // hidden state of the text's last token
};
// "mean" | "last" -> Pooling; throws ConfigError naming `setting` otherwise.
Pooling parse_pooling(const std::string& text, const std::string& setting = "pooling");
const char* pooling_name(Pooling pooling);

struct EmbedderOptions {
  ModelOptions model;
  Pooling pooling = Pooling::kMean;
  // Text prepended to every input (e.g. an instruction); "" = none. Part of the tokens pooled.
  std::string prefix;
  int n_parallel = 32;  // sequences (texts) per decode call, >= 1
  int n_batch = 512;    // tokens per decode call (>= max_tokens); sets the context size too
  int max_tokens = 64;  // tokens per text (BOS included) at most; longer texts are truncated
  int n_threads = 0;    // CPU threads; 0 = all hardware threads

  // Throws ConfigError: n_parallel outside [1, 256], max_tokens < 2, n_batch < max_tokens,
  // n_threads < 0, or invalid model options.
  void validate() const;
};

class LlamaEmbedder {
 public:
  // Loads the model (weights on the CPU unless model.n_gpu_layers says otherwise) and creates the
  // embedding context. Throws ConfigError / ModelError.
  explicit LlamaEmbedder(EmbedderOptions options);
  ~LlamaEmbedder();
  LlamaEmbedder(const LlamaEmbedder&) = delete;
  LlamaEmbedder& operator=(const LlamaEmbedder&) = delete;

  // One L2-normalised vector of n_embd() floats per text, in order. An empty text embeds the
  // prefix (or BOS) alone. Results do not depend on how texts are grouped into decode calls up to
  // floating-point differences of the batched kernels. Not thread-safe.
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts);

  int n_embd() const;
  const Model& model() const;
  const EmbedderOptions& options() const;
  // Texts truncated to max_tokens so far.
  std::size_t truncated() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ksparse::llm
