// Memory plan: how many bytes of weights, KV cache and compute buffers a model + context will take
// on each device, decided before anything is allocated, and the choice of n_gpu_layers under a
// GPU memory budget.
//
// The plan is pure arithmetic over a GgufLayout (read from the file's metadata, no weights loaded)
// and a list of GPUs, so it can be tested with made-up devices on a CPU-only machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ksparse/llm/model.h"

namespace ksparse::llm {

// Element type of the KV cache.
enum class KvType { kF16, kQ8_0, kF32 };
// "f16" | "q8_0" | "f32" -> KvType; throws ConfigError naming `setting` otherwise.
KvType parse_kv_type(const std::string& text, const std::string& setting = "kv_type");
const char* kv_type_name(KvType type);
// Bytes of `n_elements` values of `type` (q8_0: blocks of 32 values in 34 bytes; n_elements must be
// a multiple of 32 for q8_0).
uint64_t kv_type_bytes(KvType type, uint64_t n_elements);

// Flash attention. kAuto: llama.cpp's own choice ("auto": on wherever the device supports it, the
// CPU included), except with ContextOptions::batch_invariant on the CPU, where it is off: its CPU
// kernels take other code paths for 64+ prompt rows of one sequence (tiles) and for a single decode
// row over 512+ cells (split over threads), which sum in another order, so a sequence's output
// would depend on what shares its batch (batched != sequential greedy). A q8_0 KV cache always
// turns it on.
enum class FlashAttn { kAuto, kOn, kOff };
// "auto" | "on" | "off" -> FlashAttn; throws ConfigError naming `setting` otherwise.
FlashAttn parse_flash_attn(const std::string& text, const std::string& setting = "flash_attn");
const char* flash_attn_name(FlashAttn mode);

// Settings of one llama.cpp context.
struct ContextOptions {
  int n_ctx = 4096;    // KV cells over all sequences; rounded up to a multiple of 256
  int n_parallel = 1;  // sequences decoded together (llama.cpp n_seq_max)
  int n_batch = 2048;  // tokens per llama_decode call (capped at n_ctx)
  int n_ubatch = 512;  // tokens per compute step (capped at n_batch)
  KvType kv_type = KvType::kF16;
  // false: each sequence gets its own KV stream of n_ctx / n_parallel cells (rounded up to 256);
  // true: one shared buffer of n_ctx cells. Independent prompts do better with false.
  bool kv_unified = false;
  // true: sliding-window layers get full-size caches (needed only for prompt-cache reuse).
  bool swa_full = false;
  FlashAttn flash_attn = FlashAttn::kAuto;
  int n_threads = 0;  // CPU threads; 0 = all hardware threads
  // CPU kernels whose per-sequence results do not depend on the other sequences of a decode step,
  // so that greedy output is the same at any parallelism and in any batch mix: no flash attention
  // on the CPU (kOn is refused) and, through ModelOptions::batch_invariant (LlamaBackend sets it),
  // no repacked weights and no tiled K-quant matmul for the whole process. Off by default,
  // as in llama.cpp: it costs ~20% of generation throughput at 8 sequences on a CPU
  // (bench/RESULTS.md). GPU kernels are not batch-invariant either way.
  bool batch_invariant = false;

  // Throws ConfigError: n_ctx < 1, n_parallel outside [1, 256], n_batch/n_ubatch < 1,
  // n_threads < 0, flash_attn kOff with a q8_0 KV cache, batch_invariant with flash_attn kOn or a
  // q8_0 KV cache (which needs flash attention).
  void validate() const;
};

// What the GGUF metadata and tensor table say, as far as the plan needs it.
struct GgufLayout {
  std::string architecture;
  int n_layer = 0;
  int n_ctx_train = 0;
  int n_embd = 0;
  int n_ff = 0;  // feed-forward width (max over layers)
  int n_head = 0;
  int n_vocab = 0;
  int head_dim_k = 0;                 // <arch>.attention.key_length, default n_embd / n_head
  int head_dim_v = 0;                 // <arch>.attention.value_length, default n_embd / n_head
  int n_swa = 0;                      // sliding window (tokens), 0 = none
  std::vector<int> n_head_kv;         // per layer
  std::vector<bool> swa_layer;        // per layer: uses the sliding-window cache
  std::vector<uint64_t> layer_bytes;  // per layer: bytes of its blk.<i>.* tensors
  uint64_t input_bytes = 0;  // token embedding and other non-layer tensors; always on the CPU
  uint64_t output_bytes =
      0;  // output norm + output matrix (the tied embedding if no output.weight)
  uint64_t output_tied_bytes = 0;  // part of output_bytes that is the tied embedding (else 0)
  uint64_t tensor_bytes = 0;       // all tensors in the file
  uint64_t file_bytes = 0;
};

// Reads the layout from `path` (metadata only). Throws ModelError for a missing, non-GGUF or
// truncated file, or one that lacks <arch>.block_count.
GgufLayout read_gguf_layout(const std::filesystem::path& path);

struct DeviceMemory {
  std::string name;  // "CPU" or the GPU's device name
  bool gpu = false;
  int n_layers = 0;  // repeating layers placed here
  bool output_layer = false;
  uint64_t weights_bytes = 0;
  uint64_t kv_bytes = 0;
  uint64_t compute_bytes = 0;
  uint64_t budget_bytes = 0;  // what the plan allowed on this device; 0 = not checked
  uint64_t total() const { return weights_bytes + kv_bytes + compute_bytes; }
};

struct MemoryBudget {
  // Per-GPU budget for weights + KV + compute; 0 = the device's free memory.
  uint64_t gpu_bytes = 0;
  // Host RAM budget; 0 = not checked.
  uint64_t host_bytes = 0;
};

struct MemoryPlan {
  int n_gpu_layers = 0;       // resolved, in llama.cpp's counting (n_layer + 1 = everything)
  std::string note;           // how n_gpu_layers was chosen, for humans
  uint32_t n_ctx = 0;         // after rounding
  uint32_t n_ctx_seq = 0;     // cells one sequence can use
  uint32_t n_stream = 0;      // KV streams (1 when unified, else n_parallel)
  uint64_t kv_cells = 0;      // full-attention cells, all streams
  uint64_t kv_cells_swa = 0;  // sliding-window cells, all streams
  // Resolved ContextOptions::flash_attn: false = off; true = on, or llama.cpp decides (GPU layers).
  bool flash_attn = false;
  std::vector<DeviceMemory> devices;  // [0] is the CPU; then the GPU in use, if any
  uint64_t total() const;
};

// Plans `layout` + `ctx` over the CPU and `gpus` (all GPU layers go to gpus[main_gpu]).
// n_gpu_layers: >= 0 fixed (clamped to n_layer + 1), kGpuLayersAuto: the largest count that fits
// the GPU budget (0 without GPUs). Throws ConfigError for main_gpu out of range and ModelError
// when the plan does not fit: a fixed n_gpu_layers over the GPU budget, or the host part over the
// host budget; the message gives the numbers and what to change.
MemoryPlan plan_memory(const GgufLayout& layout, const ContextOptions& ctx, int n_gpu_layers,
                       int main_gpu, const std::vector<GpuDevice>& gpus,
                       const MemoryBudget& budget);

// KV-cache bytes of layer `il` for `cells` cells: cells * n_head_kv * (head_dim_k + head_dim_v)
// elements of `type`.
uint64_t kv_layer_bytes(const GgufLayout& layout, int il, uint64_t cells, KvType type);

// "12GiB", "512 MiB", "3GB", "1e9", "4096" -> bytes (KiB/MiB/GiB/TiB powers of 1024, KB/MB/GB/TB
// powers of 1000, K/M/G/T = binary). Throws ConfigError naming `setting`.
uint64_t parse_byte_size(const std::string& text, const std::string& setting = "size");
// 1536 -> "1.50 KiB".
std::string format_bytes(uint64_t bytes);

}  // namespace ksparse::llm
