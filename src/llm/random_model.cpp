// Tiny random-weight GGUF from a real one's metadata, through ggml's gguf API.
#include "ksparse/llm/random_model.h"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ksparse/core/error.h"
#include "llama_internal.h"

namespace ksparse::llm {
namespace {
namespace fs = std::filesystem;

using GgufPtr = std::unique_ptr<gguf_context, decltype(&gguf_free)>;
using GgmlPtr = std::unique_ptr<ggml_context, decltype(&ggml_free)>;

// What a tensor is made of, by its role.
enum class Fill { kMatrix, kEmbedding, kNorm, kBias };

struct TensorRule {
  std::vector<int64_t> ne;  // innermost first, as ggml
  Fill fill;
};

// The shape of a standard decoder tensor under the new sizes; nullopt for an unknown name.
std::optional<TensorRule> rule_for(const std::string& name, const RandomModelOptions& o,
                                   int64_t n_vocab) {
  const int64_t e = o.n_embd;
  const int64_t q = int64_t{o.n_head} * o.head_dim;
  const int64_t kv = int64_t{o.n_head_kv} * o.head_dim;
  const int64_t ff = o.n_ff;
  if (name == "token_embd.weight" || name == "output.weight") {
    return TensorRule{{e, n_vocab}, Fill::kEmbedding};
  }
  if (name == "output_norm.weight") return TensorRule{{e}, Fill::kNorm};
  if (name.rfind("blk.", 0) != 0) return std::nullopt;
  const std::size_t dot = name.find('.', 4);
  if (dot == std::string::npos) return std::nullopt;
  const std::string part = name.substr(dot + 1);
  if (part == "attn_norm.weight" || part == "ffn_norm.weight" ||
      part == "post_attention_norm.weight" || part == "post_ffw_norm.weight") {
    return TensorRule{{e}, Fill::kNorm};
  }
  if (part == "attn_q_norm.weight" || part == "attn_k_norm.weight") {
    return TensorRule{{o.head_dim}, Fill::kNorm};
  }
  if (part == "attn_q.weight") return TensorRule{{e, q}, Fill::kMatrix};
  if (part == "attn_k.weight" || part == "attn_v.weight") return TensorRule{{e, kv}, Fill::kMatrix};
  if (part == "attn_output.weight") return TensorRule{{q, e}, Fill::kMatrix};
  if (part == "attn_q.bias") return TensorRule{{q}, Fill::kBias};
  if (part == "attn_k.bias" || part == "attn_v.bias") return TensorRule{{kv}, Fill::kBias};
  if (part == "ffn_gate.weight" || part == "ffn_up.weight")
    return TensorRule{{e, ff}, Fill::kMatrix};
  if (part == "ffn_down.weight") return TensorRule{{ff, e}, Fill::kMatrix};
  return std::nullopt;
}

// "blk.<N>." -> N; -1 for tensors outside the blocks.
int block_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::atoi(name.c_str() + 4);
}

// splitmix64: a small, fully specified generator, so the weights are the same on every platform
// and standard library (std::normal_distribution is not).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {                                                           // Box-Muller
    const double u1 = 1.0 - uniform();                                        // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

// Per-tensor stream: FNV-1a of the name mixed into the seed, so a tensor's values do not depend
// on the order the tensors are written in.
uint64_t tensor_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h ^ (seed * 0x9e3779b97f4a7c15ULL);
}

std::vector<float> random_values(const TensorRule& rule, uint64_t seed, float init_std) {
  int64_t n = 1;
  for (int64_t d : rule.ne) n *= d;
  std::vector<float> v(static_cast<std::size_t>(n));
  SplitMix64 rng{seed};
  // Matrices: std / sqrt(fan_in) keeps each layer's output at the scale of its input. The token
  // embedding gets the same scale (fan_in = n_embd) for a reason of its own: with a tied output
  // the logit of the current token is about sqrt(n_embd) * |e_t| while the others spread with
  // std |e_t|, so a token's own logit stands ~sqrt(n_embd) of those stds above the rest at any
  // scale; only a small |e_t| (about 1 here) keeps that lead to a few nats, below the log of the
  // vocabulary, so the model does not just repeat its last token with probability near 1 (which
  // an N(0, 1) embedding did: one token repeated at a mean log-prob near 0).
  const double matrix_std = init_std / std::sqrt(static_cast<double>(rule.ne[0]));
  for (float& x : v) {
    switch (rule.fill) {
      case Fill::kMatrix:
      case Fill::kEmbedding:
        x = static_cast<float>(matrix_std * rng.normal());
        break;
      case Fill::kNorm:
        x = static_cast<float>(1.0 + 0.01 * rng.normal());
        break;
      case Fill::kBias:
        x = static_cast<float>(0.01 * rng.normal());
        break;
    }
  }
  return v;
}

}  // namespace

void RandomModelOptions::validate() const {
  if (like.empty()) throw ConfigError("random model: 'like' is empty (a real GGUF to copy from)");
  if (out.empty()) throw ConfigError("random model: 'out' is empty");
  const std::pair<const char*, int> sizes[] = {
      {"n_layer", n_layer},        {"n_embd", n_embd},     {"n_head", n_head},
      {"n_head_kv", n_head_kv},    {"head_dim", head_dim}, {"n_ff", n_ff},
      {"n_ctx_train", n_ctx_train}};
  for (const auto& [field, value] : sizes) {
    if (value < 1)
      throw ConfigError(fmt::format("random model: {} = {} (must be >= 1)", field, value));
  }
  if (n_head % n_head_kv != 0) {
    throw ConfigError(fmt::format("random model: n_head = {} is not a multiple of n_head_kv = {}",
                                  n_head, n_head_kv));
  }
  if (!(init_std > 0.0f)) {
    throw ConfigError(fmt::format("random model: init_std = {} (must be > 0)", init_std));
  }
}

void write_random_model(const RandomModelOptions& options) {
  options.validate();
  init_llama_backend();  // routes gguf's error log to spdlog
  GgufPtr src(gguf_init_from_file(options.like.string().c_str(), {/*no_alloc=*/true, nullptr}),
              &gguf_free);
  if (!src) {
    throw IoError(fmt::format("random model: cannot read {} as GGUF", options.like.string()));
  }
  const int64_t arch_key = gguf_find_key(src.get(), "general.architecture");
  if (arch_key < 0 || gguf_get_kv_type(src.get(), arch_key) != GGUF_TYPE_STRING) {
    throw ModelError(
        fmt::format("random model: {} has no general.architecture", options.like.string()));
  }
  const std::string arch = gguf_get_val_str(src.get(), arch_key);
  const int64_t embd_id = gguf_find_tensor(src.get(), "token_embd.weight");
  if (embd_id < 0) {
    throw ModelError(
        fmt::format("random model: {} has no token_embd.weight", options.like.string()));
  }
  const int64_t n_vocab = gguf_get_tensor_ne(src.get(), embd_id)[1];

  // Which tensors to make, checked before anything is written.
  struct Planned {
    std::string name;
    TensorRule rule;
  };
  std::vector<Planned> planned;
  int src_blocks = 0;
  for (int64_t i = 0; i < gguf_get_n_tensors(src.get()); ++i) {
    const std::string name = gguf_get_tensor_name(src.get(), i);
    const int block = block_of(name);
    src_blocks = std::max(src_blocks, block + 1);
    if (block >= options.n_layer) continue;
    std::optional<TensorRule> rule = rule_for(name, options, n_vocab);
    if (!rule) {
      throw ModelError(fmt::format(
          "random model: {} (architecture {}) has tensor '{}', which has no shape rule; only "
          "standard decoder tensors are supported (see ksparse/llm/random_model.h)",
          options.like.string(), arch, name));
    }
    planned.push_back({name, std::move(*rule)});
  }
  if (src_blocks < options.n_layer) {
    throw ModelError(fmt::format("random model: n_layer = {} but {} has only {} blocks",
                                 options.n_layer, options.like.string(), src_blocks));
  }

  GgufPtr dst(gguf_init_empty(), &gguf_free);
  gguf_set_kv(dst.get(), src.get());
  auto set_u32 = [&](const std::string& key, int value) {
    gguf_set_val_u32(dst.get(), key.c_str(), static_cast<uint32_t>(value));
  };
  set_u32(arch + ".block_count", options.n_layer);
  set_u32(arch + ".embedding_length", options.n_embd);
  set_u32(arch + ".feed_forward_length", options.n_ff);
  set_u32(arch + ".context_length", options.n_ctx_train);
  set_u32(arch + ".attention.head_count", options.n_head);
  set_u32(arch + ".attention.head_count_kv", options.n_head_kv);
  set_u32(arch + ".attention.key_length", options.head_dim);
  set_u32(arch + ".attention.value_length", options.head_dim);
  if (gguf_find_key(dst.get(), (arch + ".rope.dimension_count").c_str()) >= 0) {
    set_u32(arch + ".rope.dimension_count", options.head_dim);
  }
  set_u32("general.file_type", 1);  // LLAMA_FTYPE_MOSTLY_F16
  const int64_t name_key = gguf_find_key(src.get(), "general.name");
  const std::string like_name =
      name_key >= 0 && gguf_get_kv_type(src.get(), name_key) == GGUF_TYPE_STRING
          ? gguf_get_val_str(src.get(), name_key)
          : options.like.filename().string();
  gguf_set_val_str(
      dst.get(), "general.name",
      fmt::format("random weights (seed {}) like {}", options.seed, like_name).c_str());
  gguf_set_val_u64(dst.get(), "ksparse.random_model.seed", options.seed);
  gguf_set_val_str(dst.get(), "ksparse.random_model.like",
                   options.like.filename().string().c_str());
  gguf_set_val_f32(dst.get(), "ksparse.random_model.init_std", options.init_std);

  // Tensor descriptions live in a metadata-only ggml context; the bytes in `data`, which must
  // outlive the write.
  ggml_init_params gp{};
  gp.mem_size = (planned.size() + 1) * ggml_tensor_overhead();
  gp.no_alloc = true;
  GgmlPtr meta(ggml_init(gp), &ggml_free);
  if (!meta) throw ModelError("random model: ggml_init failed");
  std::vector<std::vector<uint8_t>> data;
  data.reserve(planned.size());
  for (const Planned& p : planned) {
    const bool matrix = p.rule.ne.size() == 2;
    const ggml_type type = matrix ? GGML_TYPE_F16 : GGML_TYPE_F32;
    ggml_tensor* t =
        ggml_new_tensor(meta.get(), type, static_cast<int>(p.rule.ne.size()), p.rule.ne.data());
    ggml_set_name(t, p.name.c_str());
    const std::vector<float> values =
        random_values(p.rule, tensor_seed(options.seed, p.name), options.init_std);
    std::vector<uint8_t>& bytes = data.emplace_back(ggml_nbytes(t));
    if (matrix) {
      ggml_fp32_to_fp16_row(values.data(), reinterpret_cast<ggml_fp16_t*>(bytes.data()),
                            static_cast<int64_t>(values.size()));
    } else {
      std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    gguf_add_tensor(dst.get(), t);
    gguf_set_tensor_data(dst.get(), p.name.c_str(), bytes.data());
  }

  fs::path tmp = options.out;
  tmp += ".tmp";
  std::error_code ec;
  if (options.out.has_parent_path()) fs::create_directories(options.out.parent_path(), ec);
  if (!gguf_write_to_file(dst.get(), tmp.string().c_str(), /*only_meta=*/false)) {
    fs::remove(tmp, ec);
    throw IoError(fmt::format("random model: cannot write {}", tmp.string()));
  }
  fs::rename(tmp, options.out, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw IoError(fmt::format("random model: cannot rename {} to {}: {}", tmp.string(),
                              options.out.string(), why));
  }
}

}  // namespace ksparse::llm
