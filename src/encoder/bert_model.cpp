// BERT (Devlin et al., 2019) masked-LM in libtorch, laid out exactly as Hugging Face's
// BertForMaskedLM (post-LN blocks, exact erf GELU, additive attention mask with the dtype's lowest
// value, MLM head = dense -> GELU -> LayerNorm -> decoder tied to the word embeddings + bias), so
// that a name-for-name weight copy reproduces `transformers`' logits.
#include "bert_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>
#include <vector>

#include "ksparse/core/error.h"

namespace ksparse {

// ---------------------------------------------------------------------------------- BertConfig

void BertConfig::validate() const {
  auto fail = [](const std::string& what) { throw ConfigError("bert config: " + what); };
  if (vocab_size <= 0) fail("vocab_size must be > 0");
  if (hidden_size <= 0) fail("hidden_size must be > 0");
  if (num_hidden_layers <= 0) fail("num_hidden_layers must be > 0");
  if (num_attention_heads <= 0 || hidden_size % num_attention_heads != 0) {
    fail("num_attention_heads (" + std::to_string(num_attention_heads) +
         ") must be > 0 and divide hidden_size (" + std::to_string(hidden_size) + ")");
  }
  if (intermediate_size <= 0) fail("intermediate_size must be > 0");
  if (max_position_embeddings <= 0) fail("max_position_embeddings must be > 0");
  if (type_vocab_size <= 0) fail("type_vocab_size must be > 0");
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    fail("pad_token_id must be in [0, vocab_size)");
  if (!(layer_norm_eps > 0)) fail("layer_norm_eps must be > 0");
  if (!(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1))
    fail("hidden_dropout_prob must be in [0, 1)");
  if (!(attention_probs_dropout_prob >= 0 && attention_probs_dropout_prob < 1)) {
    fail("attention_probs_dropout_prob must be in [0, 1)");
  }
  if (hidden_act != "gelu")
    fail("hidden_act '" + hidden_act + "' is not supported (only \"gelu\")");
}

nlohmann::json BertConfig::to_json() const {
  return {{"architectures", {"BertForMaskedLM"}},
          {"model_type", "bert"},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"pad_token_id", pad_token_id},
          {"layer_norm_eps", layer_norm_eps},
          {"hidden_dropout_prob", hidden_dropout_prob},
          {"attention_probs_dropout_prob", attention_probs_dropout_prob},
          {"hidden_act", hidden_act},
          {"initializer_range", 0.02},
          {"position_embedding_type", "absolute"},
          {"tie_word_embeddings", true}};
}

namespace {

template <typename T>
T get_key(const nlohmann::json& j, const char* key, bool required, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw ConfigError(std::string("config.json: missing required key '") + key + "'");
    return fallback;
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(std::string("config.json: key '") + key + "' has the wrong type");
  }
}

}  // namespace

BertConfig BertConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("config.json: not a JSON object");
  BertConfig c;
  std::string model_type = get_key<std::string>(j, "model_type", false, "bert");
  if (model_type == "distilbert") {
    c.vocab_size = get_key<std::int64_t>(j, "vocab_size", true, 0);
    c.hidden_size = get_key<std::int64_t>(j, "dim", true, 0);
    c.num_hidden_layers = get_key<std::int64_t>(j, "n_layers", true, 0);
    c.num_attention_heads = get_key<std::int64_t>(j, "n_heads", true, 0);
    c.intermediate_size = get_key<std::int64_t>(j, "hidden_dim", true, 0);
    c.max_position_embeddings = get_key<std::int64_t>(j, "max_position_embeddings", false, 512);
    c.pad_token_id = get_key<std::int64_t>(j, "pad_token_id", false, 0);
    c.hidden_dropout_prob = get_key<double>(j, "dropout", false, 0.1);
    c.attention_probs_dropout_prob = get_key<double>(j, "attention_dropout", false, 0.1);
    c.hidden_act = get_key<std::string>(j, "activation", false, "gelu");
    if (get_key<bool>(j, "sinusoidal_pos_embds", false, false)) {
      throw ConfigError("config.json: DistilBERT with sinusoidal_pos_embds is not supported");
    }
    c.layer_norm_eps = 1e-12;  // DistilBERT hard-codes this eps
  } else if (model_type == "bert") {
    c.vocab_size = get_key<std::int64_t>(j, "vocab_size", true, 0);
    c.hidden_size = get_key<std::int64_t>(j, "hidden_size", true, 0);
    c.num_hidden_layers = get_key<std::int64_t>(j, "num_hidden_layers", true, 0);
    c.num_attention_heads = get_key<std::int64_t>(j, "num_attention_heads", true, 0);
    c.intermediate_size = get_key<std::int64_t>(j, "intermediate_size", true, 0);
    c.max_position_embeddings = get_key<std::int64_t>(j, "max_position_embeddings", false, 512);
    c.type_vocab_size = get_key<std::int64_t>(j, "type_vocab_size", false, 2);
    c.pad_token_id = get_key<std::int64_t>(j, "pad_token_id", false, 0);
    c.layer_norm_eps = get_key<double>(j, "layer_norm_eps", false, 1e-12);
    c.hidden_dropout_prob = get_key<double>(j, "hidden_dropout_prob", false, 0.1);
    c.attention_probs_dropout_prob = get_key<double>(j, "attention_probs_dropout_prob", false, 0.1);
    c.hidden_act = get_key<std::string>(j, "hidden_act", false, "gelu");
    std::string pos = get_key<std::string>(j, "position_embedding_type", false, "absolute");
    if (pos != "absolute") {
      throw ConfigError("config.json: position_embedding_type '" + pos + "' is not supported");
    }
  } else {
    throw ConfigError("config.json: model_type '" + model_type +
                      "' is not supported (bert or distilbert)");
  }
  c.validate();
  return c;
}

namespace encoder::detail {

// Counter-based mask: torch::dropout's CPU kernel (libtorch 1.13 without MKL) draws every
// Bernoulli sample serially from the mt19937 generator: ~0.45 s of a ~4.5 s training step
// (H 256, 4 layers, 32 x 128 tokens, 2 cores; bench/RESULTS.md). Here one 64-bit draw from the
// default CPU generator (so torch::manual_seed still fixes every mask) seeds a splitmix64 hash of
// the element index, and the mask is filled in parallel: each element is kept with probability
// 1 - p (to 2^-32) and scaled by 1 / (1 - p), as torch::dropout does; the backward is the
// product's, grad * mask. Other devices and dtypes use torch::dropout.
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(x, p, true);
  std::uint64_t seed = 0;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    seed = at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
  }
  auto mask = torch::empty(x.sizes(), torch::TensorOptions().dtype(torch::kFloat));
  float* m = mask.data_ptr<float>();
  const std::int64_t n = mask.numel();
  const auto threshold = static_cast<std::uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  // One 64-bit hash gives two 32-bit uniforms: elements 2i and 2i + 1.
  at::parallel_for(0, (n + 1) / 2, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      std::uint64_t z = seed + static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      m[2 * i] = static_cast<std::uint32_t>(z) >= threshold ? scale : 0.0f;
      if (2 * i + 1 < n)
        m[2 * i + 1] = static_cast<std::uint32_t>(z >> 32) >= threshold ? scale : 0.0f;
    }
  });
  return x * mask;
}

namespace {

// Batched [N,m,k] x [N,k,n] on the CPU as N matrix products in parallel over the batch, each
// a BLAS call on (possibly transposed) 2-D views. libtorch 1.13's CPU bmm (built without MKL) runs
// its batch serially and multithreads each small GEMM instead: [128,128,64] x [128,64,128] (Q·Kᵀ
// of 32 documents x 4 heads) ran at ~30 GFLOP/s, and slower still with Kᵀ as a view, where this
// loop ran at ~50-65 (2-core machine, same process). Transposed operands need no copy here.
torch::Tensor batched_mm(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.device().is_cpu() || a.scalar_type() != torch::kFloat) return torch::bmm(a, b);
  TORCH_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
              "batched_mm: shapes must be [N,m,k] and [N,k,n]");
  auto out = torch::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  at::parallel_for(0, a.size(0), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      auto o = out.select(0, i);
      at::mm_out(o, a.select(0, i), b.select(0, i));
    }
  });
  return out;
}

// torch::bmm through batched_mm, forward and backward (autograd's own bmm backward would go
// through libtorch's serial bmm).
struct ParallelBmm : torch::autograd::Function<ParallelBmm> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a,
                               const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return batched_mm(a, b);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& g = grads[0];
    return {batched_mm(g, saved[1].transpose(1, 2)), batched_mm(saved[0].transpose(1, 2), g)};
  }
};

}  // namespace

torch::Tensor parallel_bmm(const torch::Tensor& a, const torch::Tensor& b) {
  return ParallelBmm::apply(a, b);
}

namespace {

namespace nn = torch::nn;

constexpr double kInitializerRange = 0.02;   // HF BertConfig.initializer_range default
constexpr double kPriorPositionScale = 0.1;  // init_lexical_prior: position vs token embeddings
constexpr double kPriorGeluShift = 8.0;      // init_lexical_prior: keeps GELU linear

struct EmbeddingsImpl : nn::Module {
  explicit EmbeddingsImpl(const BertConfig& c)
      : word_embeddings(register_module(
            "word_embeddings",
            nn::Embedding(
                nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)))),
        position_embeddings(register_module(
            "position_embeddings",
            nn::Embedding(nn::EmbeddingOptions(c.max_position_embeddings, c.hidden_size)))),
        token_type_embeddings(
            register_module("token_type_embeddings",
                            nn::Embedding(nn::EmbeddingOptions(c.type_vocab_size, c.hidden_size)))),
        layer_norm(register_module(
            "LayerNorm",
            nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
        dropout(c.hidden_dropout_prob) {}

  torch::Tensor forward(const torch::Tensor& input_ids) {
    const auto t = input_ids.size(1);
    auto positions = torch::arange(t, input_ids.options().dtype(torch::kLong)).unsqueeze(0);
    auto types = torch::zeros_like(input_ids, input_ids.options().dtype(torch::kLong));
    auto x =
        word_embeddings(input_ids) + token_type_embeddings(types) + position_embeddings(positions);
    return hashed_dropout(layer_norm(x), dropout, is_training());
  }

  nn::Embedding word_embeddings, position_embeddings, token_type_embeddings;
  nn::LayerNorm layer_norm;
  double dropout;
};
TORCH_MODULE(Embeddings);

struct SelfAttentionImpl : nn::Module {
  explicit SelfAttentionImpl(const BertConfig& c)
      : query(register_module("query", nn::Linear(c.hidden_size, c.hidden_size))),
        key(register_module("key", nn::Linear(c.hidden_size, c.hidden_size))),
        value(register_module("value", nn::Linear(c.hidden_size, c.hidden_size))),
        heads(c.num_attention_heads),
        head_dim(c.hidden_size / c.num_attention_heads),
        dropout(c.attention_probs_dropout_prob) {}

  // x [B,T,H]; additive_mask [B,1,1,T] (0 keep, lowest float drop).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
    const auto b = x.size(0), t = x.size(1);
    // Q, K and V in one GEMM over the concatenated weights (the modules keep HF's separate
    // query/key/value parameters), then one copy into contiguous per-head blocks [3, B·h, T, d].
    const auto qkv = torch::linear(x, torch::cat({query->weight, key->weight, value->weight}),
                                   torch::cat({query->bias, key->bias, value->bias}))
                         .view({b, t, 3, heads, head_dim})
                         .permute({2, 0, 3, 1, 4})
                         .contiguous()
                         .view({3, b * heads, t, head_dim});
    // unbind, not qkv[0..2]: each select's backward writes a zero [3, B·h, T, d] tensor and adds
    // it to the others; unbind's stacks the three gradients once.
    const auto parts = qkv.unbind(0);
    const auto &q = parts[0], &k = parts[1], &v = parts[2];
    // Scale and mask are applied in place (the product's backward does not need its output).
    auto scores = parallel_bmm(q, k.transpose(1, 2))
                      .mul_(1.0 / std::sqrt(static_cast<double>(head_dim)))
                      .view({b, heads, t, t})
                      .add_(additive_mask);
    auto probs = hashed_dropout(torch::softmax(scores, -1), dropout, is_training());
    auto ctx = parallel_bmm(probs.reshape({b * heads, t, t}), v)
                   .view({b, heads, t, head_dim})
                   .transpose(1, 2)
                   .contiguous();
    return ctx.view({b, t, heads * head_dim});
  }

  nn::Linear query, key, value;
  std::int64_t heads, head_dim;
  double dropout;
};
TORCH_MODULE(SelfAttention);

// dense -> dropout -> LayerNorm(. + residual): HF's BertSelfOutput and BertOutput.
struct ResidualOutputImpl : nn::Module {
  ResidualOutputImpl(std::int64_t in, const BertConfig& c)
      : dense(register_module("dense", nn::Linear(in, c.hidden_size))),
        layer_norm(register_module(
            "LayerNorm",
            nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))),
        dropout(c.hidden_dropout_prob) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual) {
    return layer_norm(hashed_dropout(dense(x), dropout, is_training()) + residual);
  }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
  double dropout;
};
TORCH_MODULE(ResidualOutput);

struct AttentionImpl : nn::Module {
  explicit AttentionImpl(const BertConfig& c)
      : self(register_module("self", SelfAttention(c))),
        output(register_module("output", ResidualOutput(c.hidden_size, c))) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    return output(self(x, mask), x);
  }
  SelfAttention self;
  ResidualOutput output;
};
TORCH_MODULE(Attention);

struct IntermediateImpl : nn::Module {
  explicit IntermediateImpl(const BertConfig& c)
      : dense(register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::gelu(dense(x)); }  // exact erf GELU
  nn::Linear dense;
};
TORCH_MODULE(Intermediate);

struct LayerImpl : nn::Module {
  explicit LayerImpl(const BertConfig& c)
      : attention(register_module("attention", Attention(c))),
        intermediate(register_module("intermediate", Intermediate(c))),
        output(register_module("output", ResidualOutput(c.intermediate_size, c))) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    auto a = attention(x, mask);
    return output(intermediate(a), a);
  }
  Attention attention;
  Intermediate intermediate;
  ResidualOutput output;
};
TORCH_MODULE(Layer);

struct EncoderImpl : nn::Module {
  explicit EncoderImpl(const BertConfig& c) : layer(register_module("layer", nn::ModuleList())) {
    for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(Layer(c));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask) {
    for (const auto& m : *layer) x = m->as<LayerImpl>()->forward(x, mask);
    return x;
  }
  nn::ModuleList layer;
};
TORCH_MODULE(Encoder);

struct BertImpl : nn::Module {
  explicit BertImpl(const BertConfig& c)
      : embeddings(register_module("embeddings", Embeddings(c))),
        encoder(register_module("encoder", Encoder(c))) {}
  Embeddings embeddings;
  Encoder encoder;
};
TORCH_MODULE(Bert);

struct TransformImpl : nn::Module {
  explicit TransformImpl(const BertConfig& c)
      : dense(register_module("dense", nn::Linear(c.hidden_size, c.hidden_size))),
        layer_norm(register_module(
            "LayerNorm",
            nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return layer_norm(torch::gelu(dense(x))); }
  nn::Linear dense;
  nn::LayerNorm layer_norm;
};
TORCH_MODULE(Transform);

struct PredictionsImpl : nn::Module {
  explicit PredictionsImpl(const BertConfig& c)
      : transform(register_module("transform", Transform(c))),
        bias(register_parameter("bias", torch::zeros({c.vocab_size}))) {}
  Transform transform;
  torch::Tensor bias;
};
TORCH_MODULE(Predictions);

struct ClsImpl : nn::Module {
  explicit ClsImpl(const BertConfig& c)
      : predictions(register_module("predictions", Predictions(c))) {}
  Predictions predictions;
};
TORCH_MODULE(Cls);

}  // namespace

struct BertForMaskedLMImpl::Parts {
  Bert bert{nullptr};
  Cls cls{nullptr};
};

namespace {

// HF _init_weights: normal(0, initializer_range) for linear and embedding weights, zero biases and
// padding row, LayerNorm (1, 0). The MLM bias starts at zero.
void init_weights(nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (auto& m : root.modules(/*include_self=*/false)) {
    if (auto* linear = m->as<nn::Linear>()) {
      linear->weight.normal_(0.0, kInitializerRange);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* emb = m->as<nn::Embedding>()) {
      emb->weight.normal_(0.0, kInitializerRange);
    } else if (auto* ln = m->as<nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

}  // namespace

BertForMaskedLMImpl::BertForMaskedLMImpl(const BertConfig& config)
    : config_(config), parts_(std::make_shared<Parts>()) {
  config_.validate();
  parts_->bert = register_module("bert", Bert(config_));
  parts_->cls = register_module("cls", Cls(config_));
  init_weights(*this);
  torch::NoGradGuard no_grad;
  parts_->bert->embeddings->word_embeddings->weight[config_.pad_token_id].zero_();
}

torch::Tensor BertForMaskedLMImpl::logits(const torch::Tensor& input_ids,
                                          const torch::Tensor& attention_mask, bool with_bias) {
  TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [B,T]");
  TORCH_CHECK(attention_mask.sizes() == input_ids.sizes(), "attention_mask must match input_ids");
  TORCH_CHECK(input_ids.size(1) <= config_.max_position_embeddings,
              "sequence longer than max_position_embeddings");
  auto& bert = parts_->bert;
  auto x = bert->embeddings(input_ids);
  // HF get_extended_attention_mask: (1 - mask) * finfo(dtype).min, broadcast over heads and
  // queries.
  auto mask = attention_mask.to(x.scalar_type()).unsqueeze(1).unsqueeze(2);
  auto additive = (1.0 - mask) * std::numeric_limits<float>::lowest();
  x = bert->encoder(x, additive);
  auto h = parts_->cls->predictions->transform(x);
  const auto b = h.size(0), t = h.size(1);
  if (!with_bias) {
    return torch::mm(h.reshape({b * t, h.size(2)}), bert->embeddings->word_embeddings->weight.t())
        .view({b, t, config_.vocab_size});
  }
  // One addmm writes the logits with the bias folded in, instead of a matmul result plus a second
  // [B,T,V] tensor for "+ bias".
  auto logits = torch::addmm(parts_->cls->predictions->bias, h.reshape({b * t, h.size(2)}),
                             bert->embeddings->word_embeddings->weight.t());
  return logits.view({b, t, config_.vocab_size});
}

torch::Tensor BertForMaskedLMImpl::forward(const torch::Tensor& input_ids,
                                           const torch::Tensor& attention_mask) {
  return logits(input_ids, attention_mask, /*with_bias=*/true);
}

torch::Tensor BertForMaskedLMImpl::sparse_forward(const torch::Tensor& input_ids,
                                                  const torch::Tensor& attention_mask,
                                                  const torch::Tensor& token_mask, PoolKind kind) {
  // The MLM bias is the same at every position, so it commutes with the max over positions
  // (float rounding is monotone: max_t fl(x_t + b) = fl(max_t x_t + b)). Adding it to the pooled
  // [B,V] row instead of the [B,T,V] logits saves a pass over the step's largest tensor, forward
  // and backward.
  return sparse_pool(logits(input_ids, attention_mask, /*with_bias=*/false), attention_mask,
                     token_mask, kind, parts_->cls->predictions->bias);
}

void BertForMaskedLMImpl::init_lexical_prior(const torch::Tensor& prior_in) {
  const auto v = config_.vocab_size;
  if (prior_in.dim() != 1 || prior_in.size(0) != v) {
    throw ConfigError("init_lexical_prior: prior must have one value per vocabulary id (" +
                      std::to_string(v) + ")");
  }
  auto prior = prior_in.to(torch::kFloat).contiguous();
  const float max_prior = prior.max().item<float>();
  if (!(max_prior > 0.0f) || !std::isfinite(max_prior)) {
    throw ConfigError("init_lexical_prior: prior needs a finite positive maximum");
  }
  const bool was_training = is_training();
  eval();
  torch::NoGradGuard no_grad;
  auto& pred = parts_->cls->predictions;
  auto& emb = parts_->bert->embeddings;
  const auto hsz = config_.hidden_size;
  // The input LayerNorm sees word + position + token-type embeddings of equal scale, so a random
  // model's hidden state keeps only ~1/sqrt(3) of the token's direction, too little to separate a
  // token's own logit from the other V-1 at hidden sizes like 64-256. Shrinking the position and
  // token-type embeddings (trainable, they grow back) makes the token dominate its position.
  emb->position_embeddings->weight.mul_(kPriorPositionScale);
  emb->token_type_embeddings->weight.mul_(kPriorPositionScale);
  // The tied decoder scores token v by <u, e_v>: random rows differ in norm by ~1/sqrt(2H) (6% at
  // H = 128), which would add that much noise to every self logit. All rows get the expected norm
  // 0.02 sqrt(H) instead (the zero pad row stays zero).
  {
    auto& w = emb->word_embeddings->weight;
    auto norms = w.norm(2, 1, /*keepdim=*/true);
    const double target = kInitializerRange * std::sqrt(static_cast<double>(hsz));
    w.copy_(torch::where(norms > 0, w / norms.clamp_min(1e-12) * target, w));
  }
  // Identity-like MLM transform: dense = I with a large bias keeps GELU in its linear range
  // (GELU(z + 8) = z + 8 within 1e-6 for |z| < 4 on unit-variance h), and the LayerNorm removes
  // the shift again: the head sees the final hidden state itself.
  pred->transform->dense->weight.copy_(torch::eye(hsz));
  pred->transform->dense->bias.fill_(kPriorGeluShift);
  pred->transform->layer_norm->weight.fill_(1.0);
  pred->transform->layer_norm->bias.zero_();
  pred->bias.zero_();

  // Calibration on random token sequences (fixed generator: no effect on the global RNG). For a
  // random-init post-LN BERT, the residual stream keeps the input token's embedding direction, so
  // the tied decoder's logit of the token at its own position (x_self) sits well above the logits
  // of other tokens (x_other ~ N(m_o, s_o)).
  auto gen = at::detail::createCPUGenerator(0x5eedULL);
  const std::int64_t b = 8, t = std::min<std::int64_t>(64, config_.max_position_embeddings);
  auto ids = torch::randint(v, {b, t}, gen, torch::dtype(torch::kLong));
  auto logits = forward(ids, torch::ones_like(ids));  // [b,t,V]
  auto self = logits.gather(2, ids.unsqueeze(-1)).squeeze(-1);
  const double n_all = static_cast<double>(logits.numel()),
               n_self = static_cast<double>(self.numel());
  const double sum_all = logits.sum().item<double>(), sum_self = self.sum().item<double>();
  const double sq_all = logits.square().sum().item<double>(),
               sq_self = self.square().sum().item<double>();
  const double m_self = sum_self / n_self;
  const double m_o = (sum_all - sum_self) / (n_all - n_self);
  const double s_o = std::sqrt(std::max(0.0, (sq_all - sq_self) / (n_all - n_self) - m_o * m_o));
  // Other tokens must stay below zero (relu) even at ~6 standard deviations: the pooled max runs
  // over T positions x V tokens per document.
  const double threshold = m_o + 6.0 * s_o;
  const double margin = m_self - threshold;
  if (!(margin > 0.0)) {
    throw ModelError("init_lexical_prior: hidden states do not keep token identity (self logit " +
                     std::to_string(m_self) + " vs other tokens' 6-sigma bound " +
                     std::to_string(threshold) + "); use a shallower/wider config");
  }
  // Scale so that gamma * (m_self - threshold) = max prior, then shift each token by its bias so
  // that its expected self logit is exactly prior[t]: logit = gamma * x + prior[t] - gamma *
  // m_self. The largest other-token logit is then <= gamma * (threshold - m_self) + max prior = 0.
  const double gamma = max_prior / margin;
  pred->transform->layer_norm->weight.fill_(gamma);
  pred->bias.copy_(prior - static_cast<float>(gamma * m_self));
  lexical_prior_stats_ = {{"self_logit_mean", m_self},
                          {"other_logit_mean", m_o},
                          {"other_logit_std", s_o},
                          {"gamma", gamma}};
  if (was_training) train();
}

std::map<std::string, torch::Tensor> state_dict_hf(BertForMaskedLM& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    out.emplace(item.key(), item.value().detach());
  }
  out.emplace("cls.predictions.decoder.weight", out.at("bert.embeddings.word_embeddings.weight"));
  return out;
}

namespace {

bool replace_prefix(std::string& s, std::string_view from, std::string_view to) {
  if (!s.starts_with(from)) return false;
  s = std::string(to) + s.substr(from.size());
  return true;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// Hugging Face DistilBertForMaskedLM name -> BertForMaskedLM name ("" when it has no counterpart).
std::string distilbert_to_bert(std::string name) {
  if (replace_prefix(name, "vocab_transform.", "cls.predictions.transform.dense.")) return name;
  if (replace_prefix(name, "vocab_layer_norm.", "cls.predictions.transform.LayerNorm."))
    return name;
  if (name == "vocab_projector.bias") return "cls.predictions.bias";
  if (name == "vocab_projector.weight") return "cls.predictions.decoder.weight";
  if (!replace_prefix(name, "distilbert.", "bert.")) replace_prefix(name, "", "bert.");
  if (replace_prefix(name, "bert.transformer.layer.", "bert.encoder.layer.")) {
    replace_all(name, ".attention.q_lin.", ".attention.self.query.");
    replace_all(name, ".attention.k_lin.", ".attention.self.key.");
    replace_all(name, ".attention.v_lin.", ".attention.self.value.");
    replace_all(name, ".attention.out_lin.", ".attention.output.dense.");
    replace_all(name, ".sa_layer_norm.", ".attention.output.LayerNorm.");
    replace_all(name, ".ffn.lin1.", ".intermediate.dense.");
    replace_all(name, ".ffn.lin2.", ".output.dense.");
    replace_all(name, ".output_layer_norm.", ".output.LayerNorm.");
  }
  return name;
}

}  // namespace

std::map<std::string, torch::Tensor> map_hf_names(
    const std::map<std::string, torch::Tensor>& tensors) {
  bool distil = false;
  for (const auto& [name, _] : tensors) {
    if (name.starts_with("distilbert.") || name.starts_with("transformer.layer.") ||
        name.starts_with("vocab_projector.")) {
      distil = true;
    }
  }
  std::map<std::string, torch::Tensor> out;
  for (const auto& [raw, tensor] : tensors) {
    std::string name = distil ? distilbert_to_bert(raw) : raw;
    // TF-converted checkpoints spell LayerNorm parameters gamma/beta.
    if (name.ends_with("LayerNorm.gamma")) name.replace(name.size() - 5, 5, "weight");
    if (name.ends_with("LayerNorm.beta")) name.replace(name.size() - 4, 4, "bias");
    // A bare BertModel checkpoint has no "bert." prefix.
    if (name.starts_with("embeddings.") || name.starts_with("encoder.") ||
        name.starts_with("pooler.")) {
      name = "bert." + name;
    }
    out[name] = tensor;
  }
  return out;
}

void load_state_dict_hf(BertForMaskedLM& model, const std::map<std::string, torch::Tensor>& raw,
                        bool allow_missing_head) {
  auto tensors = map_hf_names(raw);
  auto params = model->named_parameters(/*recurse=*/true);
  std::vector<std::string> missing, mismatched, unexpected;
  torch::NoGradGuard no_grad;
  for (auto& item : params) {
    const std::string& name = item.key();
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      if (name == "bert.embeddings.token_type_embeddings.weight") {
        item.value().zero_();  // DistilBERT has none: zero adds nothing, as in DistilBERT
        continue;
      }
      if (allow_missing_head && name.starts_with("cls.")) continue;
      missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != item.value().sizes()) {
      std::ostringstream os;
      os << name << " (file " << it->second.sizes() << ", model " << item.value().sizes() << ")";
      mismatched.push_back(os.str());
      continue;
    }
    item.value().copy_(it->second.to(torch::kFloat));
  }
  for (const auto& [name, _] : tensors) {
    if (params.contains(name)) continue;
    // Tied decoder, buffers and heads a masked-LM does not use.
    if (name == "cls.predictions.decoder.weight" || name == "cls.predictions.decoder.bias" ||
        name == "bert.embeddings.position_ids" || name.starts_with("bert.pooler.") ||
        name.starts_with("cls.seq_relationship.")) {
      continue;
    }
    unexpected.push_back(name);
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::ostringstream os;
    os << "weights do not fit the model:";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      os << " " << what << " " << v.size() << " (";
      for (std::size_t i = 0; i < v.size() && i < 5; ++i) os << (i ? ", " : "") << v[i];
      os << (v.size() > 5 ? ", ...)" : ")") << ";";
    };
    list("missing", missing);
    list("mis-shaped", mismatched);
    list("unexpected", unexpected);
    throw ModelError(os.str());
  }
}

// ------------------------------------------------------------------------ pooling and losses

namespace {

// Max over positions of x [B,T,V] (CPU float32) among the positions where keep [B,T] is true: one
// pass over x, in parallel over (document, block of vocabulary ids), with the first maximal
// position kept for the backward. libtorch 1.13's max(dim=1) with indices reduces along a strided
// dimension (~60 ms for 32 x 128 x 8,000 on 2 cores) and needs a masked copy of x for padding
// first. A document without any kept position gets -inf (its gradient is dropped). NaN logits
// never win (torch::max would return NaN).
struct MaskedMaxOverPositions : torch::autograd::Function<MaskedMaxOverPositions> {
  static constexpr std::int64_t kBlock = 1024;  // vocabulary ids per task

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in,
                               const torch::Tensor& keep_in) {
    const auto x = x_in.contiguous();
    const auto keep = keep_in.to(torch::kBool).contiguous();
    const std::int64_t b = x.size(0), t = x.size(1), v = x.size(2);
    auto values = torch::empty({b, v}, x.options());
    auto index = torch::empty({b, v}, x.options().dtype(torch::kInt));
    const float* xp = x.data_ptr<float>();
    const bool* kp = keep.data_ptr<bool>();
    float* best = values.data_ptr<float>();
    std::int32_t* arg = index.data_ptr<std::int32_t>();
    const std::int64_t blocks = (v + kBlock - 1) / kBlock;
    at::parallel_for(0, b * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t task = begin; task < end; ++task) {
        const std::int64_t d = task / blocks, v0 = task % blocks * kBlock;
        const std::int64_t n = std::min(kBlock, v - v0);
        // Running maxima in local buffers: no aliasing with x, so the loop vectorizes.
        alignas(64) float bb[kBlock];
        alignas(64) std::int32_t ab[kBlock];
        std::fill_n(bb, n, -std::numeric_limits<float>::infinity());
        std::fill_n(ab, n, 0);
        for (std::int64_t p = 0; p < t; ++p) {
          if (!kp[d * t + p]) continue;
          const float* __restrict row = xp + (d * t + p) * v + v0;
          const auto pos = static_cast<std::int32_t>(p);
          for (std::int64_t i = 0; i < n; ++i) {
            // Branch-free (a mask, not a select on bool), which GCC vectorizes.
            const float r = row[i], cur = bb[i];
            const std::int32_t m = -static_cast<std::int32_t>(r > cur);
            bb[i] = r > cur ? r : cur;
            ab[i] = (ab[i] & ~m) | (pos & m);
          }
        }
        std::copy_n(bb, n, best + d * v + v0);
        std::copy_n(ab, n, arg + d * v + v0);
      }
    });
    ctx->save_for_backward({index});
    ctx->saved_data["t"] = t;
    return values;
  }

  // The gradient of each (document, id) goes to its maximal position; every other entry is 0.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto index = ctx->get_saved_variables()[0];
    const auto g = grads[0].contiguous();
    const std::int64_t b = index.size(0), v = index.size(1), t = ctx->saved_data["t"].toInt();
    auto gx = torch::empty({b, t, v}, g.options());
    float* gp = gx.data_ptr<float>();
    const float* gv = g.data_ptr<float>();
    const std::int32_t* arg = index.data_ptr<std::int32_t>();
    const std::int64_t blocks = (v + kBlock - 1) / kBlock;
    at::parallel_for(0, b * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t task = begin; task < end; ++task) {
        const std::int64_t d = task / blocks, v0 = task % blocks * kBlock;
        const std::int64_t n = std::min(kBlock, v - v0);
        for (std::int64_t p = 0; p < t; ++p) std::fill_n(gp + (d * t + p) * v + v0, n, 0.0f);
        for (std::int64_t i = 0; i < n; ++i) {
          const std::int64_t id = v0 + i;
          gp[(d * t + arg[d * v + id]) * v + id] = gv[d * v + id];
        }
      }
    });
    return {gx, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sparse_pool(const torch::Tensor& logits, const torch::Tensor& attention_mask,
                          const torch::Tensor& token_mask, PoolKind kind,
                          const torch::Tensor& bias) {
  TORCH_CHECK(logits.dim() == 3, "logits must be [B,T,V]");
  TORCH_CHECK(attention_mask.dim() == 2 && attention_mask.size(0) == logits.size(0) &&
                  attention_mask.size(1) == logits.size(1),
              "attention_mask must be [B,T]");
  // f is monotone non-decreasing, so max_t f(x_t) = f(max_t x_t): take the max first (one [B,V]
  // activation instead of a [B,T,V] one); padded positions do not take part, and f(-inf) = 0.
  torch::Tensor maxed;
  if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat) {
    maxed = MaskedMaxOverPositions::apply(logits, attention_mask);
  } else {
    // Other devices and dtypes: padded positions become -inf (skipped without padding), then
    // max with indices, not amax: its backward scatters the gradient into one zero [B,T,V]
    // tensor, where amax's builds an equality mask, counts ties and rescales.
    auto keep = attention_mask.to(torch::kBool);
    auto x = keep.all().item<bool>() ? logits
                                     : logits.masked_fill(keep.logical_not().unsqueeze(-1),
                                                          -std::numeric_limits<float>::infinity());
    maxed = std::get<0>(x.max(1));
  }
  if (bias.defined()) maxed = maxed + bias;
  auto w = torch::log1p(torch::relu(maxed));
  if (kind == PoolKind::kL0) w = torch::log1p(w);
  return w * token_mask.to(w.scalar_type());
}

torch::Tensor info_nce_loss(const torch::Tensor& scores, double temperature) {
  TORCH_CHECK(scores.dim() == 2 && scores.size(1) >= 1, "scores must be [B,C]");
  TORCH_CHECK(temperature > 0, "temperature must be > 0");
  return -torch::log_softmax(scores / temperature, 1).select(1, 0).mean();
}

torch::Tensor kl_distill_loss(const torch::Tensor& student_scores,
                              const torch::Tensor& teacher_scores, double teacher_scale) {
  TORCH_CHECK(student_scores.sizes() == teacher_scores.sizes(), "scores must have equal shapes");
  auto t = teacher_scores.detach().to(torch::kFloat);
  auto lo = std::get<0>(t.min(1, true)), hi = std::get<0>(t.max(1, true));
  auto range = hi - lo;
  // Min-max per row (the OpenSearch recipe normalises each teacher's scores per query); a constant
  // row becomes all zeros, i.e. a uniform target.
  auto norm = torch::where(range > 0, (t - lo) / range.clamp_min(1e-12), torch::zeros_like(t));
  auto target = torch::softmax(norm * teacher_scale, 1);
  auto log_student = torch::log_softmax(student_scores, 1);
  // KL(p || q) = sum p (log p - log q); p log p with p > 0 always (softmax).
  return (target * (target.log() - log_student)).sum(1).mean();
}

torch::Tensor flops_loss(const torch::Tensor& doc_weights, const torch::Tensor& idf,
                         double min_idf) {
  TORCH_CHECK(doc_weights.dim() == 2, "doc_weights must be [N,V]");
  // FLOPS (Paria et al., 2020; SPLADE): sum_j (mean_i |w_ij|)^2, a smooth proxy of the expected
  // number of multiply-adds of a query-document dot product.
  auto per_token = doc_weights.abs().mean(0).square();
  if (!idf.defined()) return per_token.sum();
  TORCH_CHECK(idf.dim() == 1 && idf.size(0) == doc_weights.size(1), "idf must be [V]");
  // IDF-aware FLOPS (Geng et al., arXiv 2411.04403): plain FLOPS pushes every token down alike,
  // which starves rare, informative tokens; there the penalty is made IDF-aware so that frequent
  // (low-IDF) tokens are pruned first. What we implement: each token's FLOPS term is divided by its
  // IDF, sum_j (mean_i |w_ij|)^2 / max(idf_j, min_idf). A token's penalty gradient is then
  // proportional to 1/idf_j, mirroring the doc-only ranking gradient, which is proportional to
  // idf_j (query weight = idf). min_idf bounds the factor for tokens present in nearly every text.
  return (per_token / idf.to(per_token.scalar_type()).clamp_min(min_idf)).sum();
}

double flops_lambda(double lambda, std::int64_t step, std::int64_t warmup_steps) {
  if (warmup_steps <= 0 || step >= warmup_steps) return lambda;
  if (step <= 0) return 0.0;
  const double r = static_cast<double>(step) / static_cast<double>(warmup_steps);
  return lambda * r * r;
}

}  // namespace encoder::detail
}  // namespace ksparse
