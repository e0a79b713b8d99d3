// The "llm" resource of the workflow: one loaded model shared by the LLM stages (synthetic
// queries, synonym verification) and freed by the runner before training starts.
//
// Config, top-level table [llm]:
//   model = "path/to.gguf"   (required; "~/" expands to $HOME; relative to the config file, then
//                             data_dir / KSPARSE_DATA_DIR)
//   parallel = 8             sequences decoded together
//   ctx_per_seq = 2048       KV cells per sequence
//   threads = 0              CPU threads (0 = all)
//   gpu_layers = -1          -1 = plan automatically within gpu_mem_budget (0 on a CPU build)
//   gpu_mem_budget = ""      e.g. "12GiB"; "" = the device's free memory
//   kv_type = "f16"          "f16" | "q8_0"
//   cpu_repack = true        llama.cpp's repacked CPU weight layouts (off for AMX builds in VMs)
//   batch_invariant = false  CPU kernels whose greedy output does not depend on the parallelism
//                            (~20% slower; see llm::ContextOptions::batch_invariant)
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ksparse/core/config.h"
#include "ksparse/llm/backend.h"
#include "ksparse/pipeline/stage.h"
#include "ksparse/synonyms/embedding_candidates.h"

namespace ksparse::pipeline::detail {

class LlmResource : public Resource {
 public:
  virtual llm::Backend& backend() = 0;
  // Model identity for caches and provenance: "<file name> sha256:<hash>".
  virtual const std::string& model_id() const = 0;
};

// The model file named by [llm].model (resolved; ConfigError with file:line when absent).
std::filesystem::path llm_model_path(const ConfigTable& root);
// The [llm] settings that change generated text, for stage keys: {model (path), ...}.
nlohmann::json llm_key_config(const ConfigTable& root);

// Creates the llama.cpp resource (only in builds with llama.cpp; ConfigError otherwise).
std::unique_ptr<Resource> make_llama_resource(const ConfigTable& root);
// An embedding function over [llm].model: a llama.cpp embedding context (mean pooling, texts of at
// most 32 tokens, [llm].threads) loaded now and freed with the last copy of the function. It is a
// second instance of the model, separate from the "llm" resource. ConfigError in builds without
// llama.cpp.
synonyms::EmbedFn make_llama_embed(const ConfigTable& root);
// True when this build has the in-process llama.cpp runtime.
bool have_llama();

}  // namespace ksparse::pipeline::detail
