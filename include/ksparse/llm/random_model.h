// Tiny random-weight GGUF models that llama.cpp loads and runs: the "garbage model" of tests that
// check how the pipeline handles nonsense output, and a fast stand-in for plumbing checks.
//
// The new file copies every metadata key of a real GGUF (`like`), tokenizer and chat template
// included, so it tokenizes exactly like that model, and replaces the size keys and every weight
// tensor: the same tensor set as the first n_layer blocks of `like`, with tiny shapes, filled with
// seeded random values (F16 matrices, F32 vectors). Same options and same `like` give the same
// bytes. Provenance is written into the file itself: general.name says it is random, and the keys
// ksparse.random_model.{seed,like,init_std} record how it was made.
//
// Supported architectures are those whose tensors are all standard decoder tensors (token_embd,
// output, output_norm, blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm,
// attn_k_norm, attn_{q,k,v}.bias, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down,
// post_ffw_norm}). Tested with gemma3 (the test GGUF); llama, qwen2 and qwen3 files use only these
// names too but are untested. Any other tensor (rope_freqs, MoE experts, ...) throws ModelError
// naming it.
#pragma once

#include <cstdint>
#include <filesystem>

namespace ksparse::llm {

struct RandomModelOptions {
  std::filesystem::path like;  // real GGUF whose metadata is copied (required)
  std::filesystem::path out;   // the new GGUF; written atomically (temp file + rename) (required)
  int n_layer = 2;             // transformer blocks (<= those of `like`)
  int n_embd = 64;
  int n_head = 2;
  int n_head_kv = 1;       // n_head must be a multiple
  int head_dim = 32;       // key and value length per head
  int n_ff = 128;          // feed-forward width
  int n_ctx_train = 4096;  // written as <arch>.context_length
  std::uint64_t seed = 0;  // drives every weight
  // Matrices and the token embedding are N(0, init_std^2 / fan_in) (fan_in = n_embd for the
  // embedding), so activations stay O(1); norms are 1 + N(0, 0.01^2), biases N(0, 0.01^2). With
  // the default the next-token distribution is close to uniform over the vocabulary, so the model
  // writes random tokens of every script at a mean log-probability near -log(n_vocab).
  float init_std = 1.0f;
  void validate()
      const;  // ConfigError naming the field: empty paths, sizes < 1, n_head % n_head_kv
};

// Writes the model. Throws IoError when `like` cannot be read as GGUF or `out` cannot be written,
// ModelError when `like` has fewer than n_layer blocks, no general.architecture, or a tensor
// without a rule (see above).
void write_random_model(const RandomModelOptions& options);

}  // namespace ksparse::llm
