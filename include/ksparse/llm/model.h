// A GGUF model loaded in-process by llama.cpp, and what it says about itself.
//
// No llama.cpp type appears here: the handle is opaque (pimpl). The llama.cpp backend is
// initialised once per process on first use (thread-safe); its log goes to spdlog, quietly by
// default (see set_llama_log_level).
#pragma once

#include <spdlog/common.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ksparse::llm {

// n_gpu_layers sentinel: choose as many layers as the memory plan fits into the GPU budget (0 on a
// build or machine without a GPU). Any value >= n_layer + 1 offloads everything (the +1 is the
// output layer, which llama.cpp counts as one more layer).
inline constexpr int kGpuLayersAuto = -1;

// How the weights are brought into memory.
enum class LoadMode {
  kAuto,  // mmap where the devices support it, else read (llama.cpp decides)
  kMmap,  // memory-map the file (pages shared with the page cache)
  kRead,  // read the file into private buffers ("none" in llama.cpp terms)
};

// "auto" | "mmap" | "none" | "read" -> LoadMode; throws ConfigError naming `setting` otherwise.
LoadMode parse_load_mode(const std::string& text, const std::string& setting = "load_mode");
const char* load_mode_name(LoadMode mode);

struct ModelOptions {
  std::filesystem::path path;         // the .gguf file (required)
  int n_gpu_layers = kGpuLayersAuto;  // >= 0: that many layers on the GPU; kGpuLayersAuto: plan it
  int main_gpu = 0;                   // index among GPU devices (see list_gpu_devices)
  LoadMode load_mode = LoadMode::kAuto;
  // Load only the tokenizer: no weights, no generation; ModelInfo then has only architecture,
  // name, file_bytes, n_vocab and the chat template.
  bool vocab_only = false;
  // Let llama.cpp use its extra CPU weight layouts ("extra buffer types": repacked interleaved
  // quant blocks, and AMX tiles where the build enabled them), as llama.cpp's own tools do. On by
  // default: ~1.2x generation at 8 sequences on this project's CPU build (bench/RESULTS.md). Turn
  // it off for a -march=native build on an AMX-capable Xeon in a VM that does not allow AMX tiles
  // (SIGILL inside llama_decode; scripts/setup.sh builds without AMX). Ignored, i.e. off, with
  // batch_invariant: the repacked kernels treat activation rows in groups, so results depend on
  // batch composition.
  bool cpu_repack = true;
  // CPU weight kernels whose per-row results do not depend on the other rows of a matmul: no
  // repacked weights, and no tiled K-quant matmul for the whole process (settled at this load, see
  // settle_cpu_matmul_kernels). LlamaBackend sets it from ContextOptions::batch_invariant.
  bool batch_invariant = false;
  // Whether llama.cpp gets its extra CPU weight layouts: cpu_repack unless batch_invariant.
  bool repacks() const { return cpu_repack && !batch_invariant; }

  // Throws ConfigError for an empty path, n_gpu_layers < -1, or main_gpu < 0.
  void validate() const;
};

// Facts about a loaded model, all as llama.cpp reports them.
struct ModelInfo {
  std::string architecture;   // general.architecture, e.g. "gemma3"
  std::string name;           // general.name ("" when absent)
  std::string description;    // llama_model_desc, e.g. "gemma3 270M Q4_K - Medium"
  std::string file_type;      // quantisation of the file, e.g. "Q4_K - Medium"
  uint64_t n_params = 0;      // parameter count (0 when vocab_only)
  uint64_t tensor_bytes = 0;  // bytes of all weight tensors (0 when vocab_only)
  uint64_t file_bytes = 0;    // size of the .gguf file on disk
  int n_ctx_train = 0;        // training context length (tokens)
  int n_layer = 0;            // repeating (transformer) layers
  int n_embd = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_swa = 0;  // sliding-window size in tokens; 0 = no sliding-window layers
  int n_vocab = 0;
  bool has_chat_template = false;
  std::string chat_template;  // the GGUF's tokenizer.chat_template ("" when absent)
};

// A GPU as ggml sees it.
struct GpuDevice {
  std::string name;         // backend device name, e.g. "CUDA0"
  std::string description;  // e.g. "NVIDIA H100 80GB HBM3"
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
};

// GPU devices available to this build (empty on a CPU-only build). Initialises the backend.
std::vector<GpuDevice> list_gpu_devices();

// llama.cpp/ggml log lines below this spdlog level are dropped; the rest go to spdlog's default
// logger at: llama error -> error, warn -> debug, info -> trace. Default: spdlog::level::debug, so
// llama.cpp is silent unless `--log-level debug` (warnings) or `trace` (everything).
void set_llama_log_level(spdlog::level::level_enum min_level);

// Initialises the llama.cpp backend and installs the log router; idempotent and thread-safe.
void init_llama_backend();

// ggml's CPU backend hands K-quant matmuls of 8 or more activation rows to a tiled kernel that
// sums in another order than its per-row dot products; it reads GGML_CPU_TILED_MM once per process,
// at the first matmul. The first call of this function settles that choice for the process:
// batch_invariant = true turns the tiled kernel off (GGML_CPU_TILED_MM=0), anything else keeps the
// environment's setting (llama.cpp's default: on). Every model load calls it, with
// ModelOptions::batch_invariant or nullopt, before the first matmul can run. Throws ConfigError
// when batch-invariant kernels are asked for but the process already settled on the tiled kernel,
// or GGML_CPU_TILED_MM is set to a non-zero value. Returns whether the tiled kernel is on for this
// process.
bool settle_cpu_matmul_kernels(std::optional<bool> batch_invariant);

// A loaded model. Move-only; frees the llama.cpp model on destruction. Not thread-safe: share a
// Model between threads only for const calls.
class Model {
 public:
  // Loads `options.path`. n_gpu_layers == kGpuLayersAuto is resolved by the caller (see
  // plan_memory); here it means "0 when no GPU, otherwise all".
  // Throws ConfigError for invalid options; ModelError for a missing file, a file that is not GGUF,
  // a truncated GGUF, or anything llama.cpp refuses to load.
  explicit Model(const ModelOptions& options);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const;
  const ModelOptions& options() const;
  int n_gpu_layers() const;  // what was passed to llama.cpp after resolving auto

  // Value of a GGUF metadata key as a string, or "" when absent.
  std::string meta(const std::string& key) const;

  // Tokenises `text` (adding BOS when the model asks for it and add_special is true).
  std::vector<int32_t> tokenize(const std::string& text, bool add_special = true) const;
  // The text of one token (special tokens rendered as text only when `special`).
  std::string token_to_piece(int32_t token, bool special = false) const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Checks that `path` exists and is a complete GGUF file (magic, header, tensor data within the
// file); throws ModelError naming the file and what is wrong otherwise. Cheap: reads metadata only.
void check_gguf_file(const std::filesystem::path& path);

}  // namespace ksparse::llm
