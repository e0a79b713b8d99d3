// Memory plan: bytes per device for weights, KV cache and compute buffers, before allocation.
//
// The KV arithmetic mirrors how llama.cpp sizes its caches (llama-context.cpp, llama-kv-cache*.cpp
// of the vendored version): n_ctx is rounded up to 256; without a unified cache every sequence
// gets its own stream of n_ctx_seq = pad256(n_ctx / n_seq) cells; sliding-window layers get
// pad256(min(n_ctx_seq, n_swa + n_ubatch)) cells per stream (unified: pad256(min(n_ctx,
// n_swa * n_seq + n_ubatch))). Offloading counts n_layer + 1 layers, the last being the output
// layer, and places the *last* n_gpu_layers of them on the GPU; the token embedding stays on the
// CPU. The KV cache of a layer lives with the layer (offload_kqv).
#include "ksparse/llm/memory_plan.h"

#include <fmt/format.h>
#include <gguf.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <string_view>

#include "ksparse/core/error.h"
#include "llama_internal.h"

namespace ksparse::llm {
namespace {

constexpr uint64_t pad256(uint64_t n) { return (n + 255) / 256 * 256; }

using GgufPtr = std::unique_ptr<gguf_context, decltype(&gguf_free)>;

// Integer value(s) of a GGUF key: a scalar gives one value, an array gives all its elements.
std::vector<int64_t> gguf_ints(const gguf_context* ctx, const std::string& key) {
  const int64_t id = gguf_find_key(ctx, key.c_str());
  if (id < 0) return {};
  auto scalar = [&](gguf_type t, const void* p) -> int64_t {
    switch (t) {
      case GGUF_TYPE_UINT8:
        return *static_cast<const uint8_t*>(p);
      case GGUF_TYPE_INT8:
        return *static_cast<const int8_t*>(p);
      case GGUF_TYPE_UINT16:
        return *static_cast<const uint16_t*>(p);
      case GGUF_TYPE_INT16:
        return *static_cast<const int16_t*>(p);
      case GGUF_TYPE_UINT32:
        return *static_cast<const uint32_t*>(p);
      case GGUF_TYPE_INT32:
        return *static_cast<const int32_t*>(p);
      case GGUF_TYPE_UINT64:
        return static_cast<int64_t>(*static_cast<const uint64_t*>(p));
      case GGUF_TYPE_INT64:
        return *static_cast<const int64_t*>(p);
      case GGUF_TYPE_BOOL:
        return *static_cast<const bool*>(p) ? 1 : 0;
      case GGUF_TYPE_FLOAT32:
        return static_cast<int64_t>(*static_cast<const float*>(p));
      default:
        return 0;
    }
  };
  static const size_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  const gguf_type t = gguf_get_kv_type(ctx, id);
  if (t == GGUF_TYPE_ARRAY) {
    const gguf_type at = gguf_get_arr_type(ctx, id);
    if (at == GGUF_TYPE_STRING || at == GGUF_TYPE_ARRAY) return {};
    const auto* data = static_cast<const char*>(gguf_get_arr_data(ctx, id));
    std::vector<int64_t> out(gguf_get_arr_n(ctx, id));
    for (size_t i = 0; i < out.size(); ++i) out[i] = scalar(at, data + i * kSize[at]);
    return out;
  }
  if (t == GGUF_TYPE_STRING) return {};
  return {scalar(t, gguf_get_val_data(ctx, id))};
}

// The value for layer `il` of a per-layer key (scalar keys apply to every layer).
int per_layer(const std::vector<int64_t>& v, int il, int fallback) {
  if (v.empty()) return fallback;
  if (v.size() == 1) return static_cast<int>(v[0]);
  return static_cast<int>(v[std::min<size_t>(static_cast<size_t>(il), v.size() - 1)]);
}

// Sliding-window layer pattern an architecture uses when its GGUF does not store one (from the
// vendored llama.cpp's model definitions): every n-th layer is a full-attention layer.
int default_swa_pattern(const std::string& arch) {
  if (arch == "gemma3" || arch == "gemma-embedding") return 6;
  if (arch == "gemma2" || arch == "gpt-oss") return 2;
  if (arch == "cohere2" || arch == "exaone4" || arch == "olmo2") return 4;
  return 1;  // unknown: treat every layer as full attention (over-estimates, never under)
}

// Compute-buffer estimate (f32 activations of one ubatch). llama.cpp's graph allocator reuses
// memory between layers, so the peak is roughly the live tensors of one layer plus the logits:
//   act    = 4 * n_ubatch * (4 * n_embd + 3 * n_ff + 2 * n_head * head_dim)   (residual, norms,
//            FFN gate/up/activation, Q and the attention output)
//   mask   = 2 * n_ubatch * n_kv                                           (f16 KQ mask)
//   logits = 4 * n_outputs * n_vocab
//   kq     = 2 * 4 * n_ubatch * n_head * n_kv    without flash attention (the KQ scores and
//            their softmax, both f32)
// Checked against the sizes llama.cpp reports for Gemma 3 270M (see llama_backend_model_test): an
// upper bound within 2x.
uint64_t compute_estimate(const GgufLayout& l, uint64_t n_ubatch, uint64_t n_kv, uint64_t n_outputs,
                          bool with_logits, bool flash_attn) {
  const uint64_t head_dim = static_cast<uint64_t>(std::max(l.head_dim_k, l.head_dim_v));
  const uint64_t act = 4 * n_ubatch *
                       (4 * static_cast<uint64_t>(l.n_embd) + 3 * static_cast<uint64_t>(l.n_ff) +
                        2 * static_cast<uint64_t>(l.n_head) * head_dim);
  const uint64_t mask = 2 * n_ubatch * n_kv;
  const uint64_t logits = with_logits ? 4 * n_outputs * static_cast<uint64_t>(l.n_vocab) : 0;
  const uint64_t kq = flash_attn ? 0 : 8 * n_ubatch * static_cast<uint64_t>(l.n_head) * n_kv;
  return act + mask + logits + kq;
}

}  // namespace

KvType parse_kv_type(const std::string& text, const std::string& setting) {
  if (text == "f16") return KvType::kF16;
  if (text == "q8_0") return KvType::kQ8_0;
  if (text == "f32") return KvType::kF32;
  throw ConfigError(
      fmt::format("{}: unknown KV cache type '{}' (use f16, q8_0 or f32)", setting, text));
}

const char* kv_type_name(KvType type) {
  switch (type) {
    case KvType::kF16:
      return "f16";
    case KvType::kQ8_0:
      return "q8_0";
    case KvType::kF32:
      return "f32";
  }
  return "?";
}

FlashAttn parse_flash_attn(const std::string& text, const std::string& setting) {
  if (text == "auto") return FlashAttn::kAuto;
  if (text == "on") return FlashAttn::kOn;
  if (text == "off") return FlashAttn::kOff;
  throw ConfigError(
      fmt::format("{}: unknown flash attention mode '{}' (use auto, on or off)", setting, text));
}

const char* flash_attn_name(FlashAttn mode) {
  switch (mode) {
    case FlashAttn::kAuto:
      return "auto";
    case FlashAttn::kOn:
      return "on";
    case FlashAttn::kOff:
      return "off";
  }
  return "?";
}

uint64_t kv_type_bytes(KvType type, uint64_t n) {
  switch (type) {
    case KvType::kF16:
      return 2 * n;
    case KvType::kQ8_0:
      return (n + 31) / 32 * 34;  // 32 int8 values + one f16 scale per block
    case KvType::kF32:
      return 4 * n;
  }
  return 0;
}

namespace detail {
ggml_type to_ggml_type(KvType type) {
  switch (type) {
    case KvType::kF16:
      return GGML_TYPE_F16;
    case KvType::kQ8_0:
      return GGML_TYPE_Q8_0;
    case KvType::kF32:
      return GGML_TYPE_F32;
  }
  return GGML_TYPE_F16;
}
}  // namespace detail

void ContextOptions::validate() const {
  if (n_ctx < 1) throw ConfigError(fmt::format("n_ctx: {} (must be >= 1)", n_ctx));
  if (n_parallel < 1 || n_parallel > 256) {
    throw ConfigError(fmt::format("n_parallel: {} (must be in [1, 256])", n_parallel));
  }
  if (n_batch < 1) throw ConfigError(fmt::format("n_batch: {} (must be >= 1)", n_batch));
  if (n_ubatch < 1) throw ConfigError(fmt::format("n_ubatch: {} (must be >= 1)", n_ubatch));
  if (n_threads < 0) throw ConfigError(fmt::format("n_threads: {} (0 = all cores)", n_threads));
  if (flash_attn == FlashAttn::kOff && kv_type == KvType::kQ8_0) {
    throw ConfigError("flash_attn: off, but a q8_0 KV cache needs flash attention (use on or auto)");
  }
  if (batch_invariant && (flash_attn == FlashAttn::kOn || kv_type == KvType::kQ8_0)) {
    throw ConfigError(
        "batch_invariant: flash attention sums in a batch-dependent order on the CPU; use "
        "flash_attn auto or off and an f16 KV cache, or turn batch_invariant off");
  }
}

GgufLayout read_gguf_layout(const std::filesystem::path& path) {
  check_gguf_file(path);
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr ctx(gguf_init_from_file(path.string().c_str(), params), &gguf_free);
  if (!ctx) throw ModelError(fmt::format("{}: cannot read GGUF metadata", path.string()));
  const gguf_context* g = ctx.get();

  GgufLayout l;
  std::error_code ec;
  l.file_bytes = std::filesystem::file_size(path, ec);
  const int64_t arch_id = gguf_find_key(g, "general.architecture");
  if (arch_id < 0 || gguf_get_kv_type(g, arch_id) != GGUF_TYPE_STRING) {
    throw ModelError(fmt::format("{}: GGUF has no general.architecture", path.string()));
  }
  l.architecture = gguf_get_val_str(g, arch_id);
  const std::string a = l.architecture + ".";
  const auto block_count = gguf_ints(g, a + "block_count");
  if (block_count.empty()) {
    throw ModelError(
        fmt::format("{}: GGUF has no {}block_count; not a language model?", path.string(), a));
  }
  l.n_layer = static_cast<int>(block_count[0]);
  l.n_ctx_train = per_layer(gguf_ints(g, a + "context_length"), 0, 0);
  l.n_embd = per_layer(gguf_ints(g, a + "embedding_length"), 0, 0);
  const auto ff = gguf_ints(g, a + "feed_forward_length");
  for (auto v : ff) l.n_ff = std::max(l.n_ff, static_cast<int>(v));
  const auto head = gguf_ints(g, a + "attention.head_count");
  l.n_head = per_layer(head, 0, 0);
  const auto head_kv = gguf_ints(g, a + "attention.head_count_kv");
  const int default_dim = l.n_head > 0 ? l.n_embd / l.n_head : 0;
  l.head_dim_k = per_layer(gguf_ints(g, a + "attention.key_length"), 0, default_dim);
  l.head_dim_v = per_layer(gguf_ints(g, a + "attention.value_length"), 0, default_dim);
  l.n_swa = per_layer(gguf_ints(g, a + "attention.sliding_window"), 0, 0);
  const int64_t tok_id = gguf_find_key(g, "tokenizer.ggml.tokens");
  if (tok_id >= 0 && gguf_get_kv_type(g, tok_id) == GGUF_TYPE_ARRAY) {
    l.n_vocab = static_cast<int>(gguf_get_arr_n(g, tok_id));
  }

  const auto pattern = gguf_ints(g, a + "attention.sliding_window_pattern");
  l.n_head_kv.resize(static_cast<size_t>(l.n_layer));
  l.swa_layer.resize(static_cast<size_t>(l.n_layer));
  for (int il = 0; il < l.n_layer; ++il) {
    l.n_head_kv[il] = per_layer(head_kv, il, per_layer(head, il, l.n_head));
    bool swa = false;
    if (l.n_swa > 0) {
      if (pattern.size() > 1) {
        swa = per_layer(pattern, il, 0) != 0;
      } else {
        const int n = pattern.size() == 1 ? static_cast<int>(pattern[0])
                                          : default_swa_pattern(l.architecture);
        swa = n == 0 || (il % n < n - 1);
      }
    }
    l.swa_layer[il] = swa;
  }

  l.layer_bytes.assign(static_cast<size_t>(l.n_layer), 0);
  bool has_output = false;
  uint64_t embd_bytes = 0;
  const int64_t n_tensors = gguf_get_n_tensors(g);
  for (int64_t i = 0; i < n_tensors; ++i) {
    const std::string_view name = gguf_get_tensor_name(g, i);
    const uint64_t bytes = gguf_get_tensor_size(g, i);
    l.tensor_bytes += bytes;
    if (name.substr(0, 4) == "blk.") {
      const int il = std::atoi(std::string(name.substr(4)).c_str());
      if (il >= 0 && il < l.n_layer) {
        l.layer_bytes[static_cast<size_t>(il)] += bytes;
        continue;
      }
    }
    if (name == "output.weight") has_output = true;
    if (name.substr(0, 7) == "output." || name.substr(0, 12) == "output_norm.") {
      l.output_bytes += bytes;
    } else {
      if (name == "token_embd.weight") embd_bytes = bytes;
      l.input_bytes += bytes;
    }
  }
  // Tied embeddings: llama.cpp loads token_embd a second time as the output matrix, which costs
  // memory only when the output layer sits on a GPU (on the CPU both share the same pages).
  if (!has_output) {
    l.output_bytes += embd_bytes;
    l.output_tied_bytes = embd_bytes;
  }
  return l;
}

uint64_t kv_layer_bytes(const GgufLayout& l, int il, uint64_t cells, KvType type) {
  const uint64_t heads = static_cast<uint64_t>(l.n_head_kv.at(static_cast<size_t>(il)));
  return kv_type_bytes(type, cells * heads * static_cast<uint64_t>(l.head_dim_k)) +
         kv_type_bytes(type, cells * heads * static_cast<uint64_t>(l.head_dim_v));
}

uint64_t MemoryPlan::total() const {
  uint64_t t = 0;
  for (const auto& d : devices) t += d.total();
  return t;
}

MemoryPlan plan_memory(const GgufLayout& l, const ContextOptions& ctx, int n_gpu_layers,
                       int main_gpu, const std::vector<GpuDevice>& gpus,
                       const MemoryBudget& budget) {
  ctx.validate();
  if (n_gpu_layers < kGpuLayersAuto) {
    throw ConfigError(fmt::format("n_gpu_layers: {} is invalid", n_gpu_layers));
  }
  if (!gpus.empty() && (main_gpu < 0 || main_gpu >= static_cast<int>(gpus.size()))) {
    throw ConfigError(
        fmt::format("main_gpu: {} out of range (this machine has {} GPUs)", main_gpu, gpus.size()));
  }
  MemoryPlan plan;
  const uint64_t n_seq = static_cast<uint64_t>(ctx.n_parallel);
  uint64_t n_ctx = pad256(static_cast<uint64_t>(ctx.n_ctx));
  const uint64_t n_batch = std::min<uint64_t>(static_cast<uint64_t>(ctx.n_batch), n_ctx);
  const uint64_t n_ubatch = std::min<uint64_t>(static_cast<uint64_t>(ctx.n_ubatch), n_batch);
  const uint64_t n_swa = static_cast<uint64_t>(std::max(l.n_swa, 0));
  uint64_t n_ctx_seq = 0;
  uint64_t swa_cells = 0;
  if (ctx.kv_unified) {
    plan.n_stream = 1;
    n_ctx_seq = n_ctx;
    swa_cells = pad256(std::min(n_ctx, n_swa * n_seq + n_ubatch));
  } else {
    plan.n_stream = static_cast<uint32_t>(n_seq);
    n_ctx_seq = pad256(n_ctx / n_seq);
    n_ctx = n_ctx_seq * n_seq;
    swa_cells = n_seq * pad256(std::min(n_ctx_seq, n_swa + n_ubatch));
  }
  if (ctx.swa_full) swa_cells = n_ctx;
  plan.n_ctx = static_cast<uint32_t>(n_ctx);
  plan.n_ctx_seq = static_cast<uint32_t>(n_ctx_seq);
  plan.kv_cells = n_ctx;
  plan.kv_cells_swa = swa_cells;
  const uint64_t n_outputs = std::min(n_ubatch, n_seq);  // one logits row per sequence per step
  // Widest attention span one ubatch sees: a stream's cells (its whole buffer when unified).
  const uint64_t n_kv = n_ctx_seq;

  const int n_all = l.n_layer + 1;  // + the output layer
  // See FlashAttn: "auto" is llama.cpp's choice, assumed on (the CPU and current GPUs support it),
  // except batch-invariant CPU-only contexts.
  auto flash_for = [&](int ngl) {
    return ctx.flash_attn == FlashAttn::kOn || ctx.kv_type == KvType::kQ8_0 ||
           (ctx.flash_attn == FlashAttn::kAuto && (ngl > 0 || !ctx.batch_invariant));
  };
  auto build = [&](int ngl) {
    DeviceMemory cpu{"CPU", false};
    DeviceMemory gpu{gpus.empty() ? "" : gpus[static_cast<size_t>(main_gpu)].name, true};
    cpu.weights_bytes = l.input_bytes;
    const int gpu_start = n_all - ngl;
    for (int il = 0; il < l.n_layer; ++il) {
      DeviceMemory& d = il >= gpu_start ? gpu : cpu;
      d.n_layers += 1;
      d.weights_bytes += l.layer_bytes[static_cast<size_t>(il)];
      const bool swa = l.swa_layer[static_cast<size_t>(il)];
      d.kv_bytes += kv_layer_bytes(l, il, swa ? swa_cells : n_ctx, ctx.kv_type);
    }
    const bool out_gpu = ngl >= 1;
    DeviceMemory& od = out_gpu ? gpu : cpu;
    od.output_layer = true;
    // On the CPU a tied output matrix shares the embedding's pages; only a GPU pays for the copy.
    od.weights_bytes += out_gpu ? l.output_bytes : l.output_bytes - l.output_tied_bytes;
    if (ngl > 0) {
      gpu.compute_bytes = compute_estimate(l, n_ubatch, n_kv, n_outputs, out_gpu, flash_for(ngl));
      // Host side: inputs and the logits the CPU reads back.
      cpu.compute_bytes = 4 * n_outputs * static_cast<uint64_t>(l.n_vocab) +
                          4 * n_ubatch * static_cast<uint64_t>(l.n_embd);
    } else {
      cpu.compute_bytes = compute_estimate(l, n_ubatch, n_kv, n_outputs, true, flash_for(ngl));
    }
    cpu.compute_bytes += 4 * n_outputs * static_cast<uint64_t>(l.n_vocab);  // output buffer
    std::vector<DeviceMemory> devs{cpu};
    if (ngl > 0) devs.push_back(gpu);
    return devs;
  };

  auto gpu_budget = [&]() -> uint64_t {
    if (budget.gpu_bytes > 0) return budget.gpu_bytes;
    return gpus[static_cast<size_t>(main_gpu)].free_bytes;
  };
  auto advice = [&]() {
    return fmt::format(
        "to fit: lower --ctx (KV is {} per 1024 cells at {}) or --parallel, use --kv-type q8_0 "
        "(about half of f16), lower --ngl, or raise the budget",
        format_bytes([&] {
          uint64_t s = 0;
          for (int il = 0; il < l.n_layer; ++il) s += kv_layer_bytes(l, il, 1024, ctx.kv_type);
          return s;
        }()),
        kv_type_name(ctx.kv_type));
  };

  int ngl = 0;
  if (gpus.empty()) {
    ngl = 0;
    plan.note = n_gpu_layers == kGpuLayersAuto
                    ? "no GPU in this build or machine: auto -> 0 GPU layers (CPU only)"
                    : (n_gpu_layers > 0 ? fmt::format("no GPU in this build or machine: "
                                                      "n_gpu_layers {} ignored, CPU only",
                                                      n_gpu_layers)
                                        : "CPU only");
  } else if (n_gpu_layers == kGpuLayersAuto) {
    const uint64_t cap = gpu_budget();
    ngl = 0;
    for (int k = n_all; k >= 1; --k) {
      const auto devs = build(k);
      if (devs.back().total() <= cap) {
        ngl = k;
        break;
      }
    }
    plan.note = fmt::format("auto: {} of {} layers fit the {} budget of {}", ngl, n_all,
                            format_bytes(cap), gpus[static_cast<size_t>(main_gpu)].name);
  } else {
    ngl = std::min(n_gpu_layers, n_all);
    plan.note = fmt::format("n_gpu_layers {} requested", n_gpu_layers);
    if (ngl > 0) {
      const auto devs = build(ngl);
      const DeviceMemory& g = devs.back();
      const uint64_t cap = gpu_budget();
      if (g.total() > cap) {
        throw ModelError(fmt::format(
            "memory plan: {} GPU layers need {} on {} (weights {}, KV cache {}, compute {}) but "
            "the "
            "budget is {}; {}",
            ngl, format_bytes(g.total()), g.name, format_bytes(g.weights_bytes),
            format_bytes(g.kv_bytes), format_bytes(g.compute_bytes), format_bytes(cap), advice()));
      }
    }
  }
  plan.n_gpu_layers = ngl;
  plan.flash_attn = flash_for(ngl);
  plan.devices = build(ngl);
  for (auto& d : plan.devices) {
    if (d.gpu) d.budget_bytes = gpu_budget();
  }
  DeviceMemory& cpu = plan.devices.front();
  if (budget.host_bytes > 0) {
    cpu.budget_bytes = budget.host_bytes;
    if (cpu.total() > budget.host_bytes) {
      throw ModelError(fmt::format(
          "memory plan: the CPU part needs {} (weights {}, KV cache {}, compute {}) but the host "
          "budget is {}; {}",
          format_bytes(cpu.total()), format_bytes(cpu.weights_bytes), format_bytes(cpu.kv_bytes),
          format_bytes(cpu.compute_bytes), format_bytes(budget.host_bytes), advice()));
    }
  }
  if (l.n_ctx_train > 0 && n_ctx_seq > static_cast<uint64_t>(l.n_ctx_train)) {
    plan.note += fmt::format("; warning: {} cells per sequence exceed the training context {}",
                             n_ctx_seq, l.n_ctx_train);
  }
  return plan;
}

uint64_t parse_byte_size(const std::string& text, const std::string& setting) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) s.push_back(c);
  }
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(s, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos == 0 || !(value >= 0) || !std::isfinite(value)) {
    throw ConfigError(
        fmt::format("{}: '{}' is not a size (examples: 12GiB, 512MiB, 8GB)", setting, text));
  }
  std::string unit = s.substr(pos);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  double mult = 1;
  if (unit.empty()) {
    mult = 1;
  } else if (unit == "k" || unit == "ki") {
    mult = 1024.0;
  } else if (unit == "m" || unit == "mi") {
    mult = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gi") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "ti") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    throw ConfigError(fmt::format(
        "{}: unknown unit in '{}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)", setting, text));
  }
  // "KB", "MB", ... (written with a B and without an i) are decimal.
  const std::string raw_unit = s.substr(pos);
  if (raw_unit.size() == 2 && (raw_unit[1] == 'B' || raw_unit[1] == 'b') &&
      std::tolower(static_cast<unsigned char>(raw_unit[0])) != 'i') {
    const int exp = unit == "k" ? 1 : unit == "m" ? 2 : unit == "g" ? 3 : 4;
    mult = std::pow(1000.0, exp);
  }
  return static_cast<uint64_t>(std::llround(value * mult));
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.2f} {}", v, units[u]);
}

}  // namespace ksparse::llm
