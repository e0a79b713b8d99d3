#include "llm_resource.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/pipeline/runner.h"
#include "ksparse/pipeline/stages.h"

#ifdef KSPARSE_PIPELINE_HAVE_LLAMA
#include "ksparse/llm/embedder.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/llm/memory_plan.h"
#endif

namespace ksparse::pipeline::detail {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path llm_model_path(const ConfigTable& root) {
  const ConfigTable t = root.table("llm");
  if (!t.contains("model")) {
    throw ConfigError(root.where("llm") +
                      ": `llm.model` is required by the LLM stages (a GGUF "
                      "file, e.g. \"~/.cache/ksparse/models/gemma-3-270m-q4_k_m.gguf\")");
  }
  return resolve_input_file(t, root, "model");
}

json llm_key_config(const ConfigTable& root) {
  const ConfigTable t = root.table("llm");
  t.expect_keys(
      {"model", "parallel", "ctx_per_seq", "threads", "gpu_layers", "gpu_mem_budget", "kv_type",
       "batch_invariant", "cpu_repack"});
  const int parallel = t.get("parallel", 8);
  const int ctx = t.get("ctx_per_seq", 2048);
  if (parallel < 1) throw ConfigError(t.where("parallel") + ": `llm.parallel` must be >= 1");
  if (ctx < 64) throw ConfigError(t.where("ctx_per_seq") + ": `llm.ctx_per_seq` must be >= 64");
  // The model decides the text (per-request seeds); the runtime settings only change float
  // rounding (exactly nothing with batch_invariant), so they stay out of the stage keys: changing
  // parallelism does not redo generation.
  return {{"model", llm_model_path(root).filename().string()}};
}

#ifdef KSPARSE_PIPELINE_HAVE_LLAMA

namespace {

class LlamaResource final : public LlmResource {
 public:
  explicit LlamaResource(const ConfigTable& root) {
    const ConfigTable t = root.table("llm");
    const fs::path model = llm_model_path(root);
    model_id_ = model.filename().string() + " sha256:" + sha256_file(model);
    llm::LlamaBackendOptions o;
    o.model.path = model;
    o.model.n_gpu_layers = t.get("gpu_layers", llm::kGpuLayersAuto);
    const int parallel = t.get("parallel", 8);
    o.context.n_parallel = parallel;
    o.context.n_ctx = t.get("ctx_per_seq", 2048) * parallel;
    o.context.n_threads = t.get("threads", 0);
    o.context.batch_invariant = t.get("batch_invariant", false);  // passed on to the model
    o.model.cpu_repack = t.get("cpu_repack", true);
    const std::string kv = t.get<std::string>("kv_type", "f16");
    if (kv == "q8_0") {
      o.context.kv_type = llm::KvType::kQ8_0;
    } else if (kv != "f16") {
      throw ConfigError(t.where("kv_type") + ": `llm.kv_type` must be \"f16\" or \"q8_0\"");
    }
    const std::string budget = t.get<std::string>("gpu_mem_budget", "");
    if (!budget.empty()) o.budget.gpu_bytes = llm::parse_byte_size(budget, "llm.gpu_mem_budget");
    const auto t0 = std::chrono::steady_clock::now();
    backend_ = std::make_unique<llm::LlamaBackend>(o);
    load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("llm: {} loaded in {:.1f} s ({}; {} GPU layers)", model.filename().string(),
                 load_seconds_, backend_->model().info().description,
                 backend_->plan().n_gpu_layers);
  }
  llm::Backend& backend() override { return *backend_; }
  const std::string& model_id() const override { return model_id_; }
  json memory() const override {
    json j = json::object();
    const llm::MemoryPlan& plan = backend_->plan();
    for (const auto& d : plan.devices) {
      j[d.name] = {{"planned_weights_bytes", d.weights_bytes},
                   {"planned_kv_bytes", d.kv_bytes},
                   {"planned_compute_bytes", d.compute_bytes},
                   {"planned_total_bytes", d.total()},
                   {"gpu", d.gpu},
                   {"layers", d.n_layers}};
    }
    for (const auto& m : backend_->measured()) {
      j[m.buffer]["measured_kv_bytes"] = m.kv_bytes;
      j[m.buffer]["measured_compute_bytes"] = m.compute_bytes;
    }
    j["process_rss_bytes"] = current_rss_bytes();
    j["n_gpu_layers"] = plan.n_gpu_layers;
    j["plan_note"] = plan.note;
    j["load_seconds"] = load_seconds_;
    return j;
  }

 private:
  std::unique_ptr<llm::LlamaBackend> backend_;
  std::string model_id_;
  double load_seconds_ = 0.0;
};

}  // namespace

std::unique_ptr<Resource> make_llama_resource(const ConfigTable& root) {
  return std::make_unique<LlamaResource>(root);
}
synonyms::EmbedFn make_llama_embed(const ConfigTable& root) {
  const ConfigTable t = root.table("llm");
  llm::EmbedderOptions eo;
  eo.model.path = llm_model_path(root);
  eo.model.n_gpu_layers = t.get("gpu_layers", llm::kGpuLayersAuto);
  eo.pooling = llm::Pooling::kMean;
  eo.n_parallel = 32;
  eo.max_tokens = 32;
  eo.n_batch = eo.max_tokens * 8;
  eo.n_threads = t.get("threads", 0);
  // The same CPU kernels as the generation model: the embedder may load first and settle them.
  eo.model.batch_invariant = t.get("batch_invariant", false);
  eo.model.cpu_repack = t.get("cpu_repack", true);
  auto embedder = std::make_shared<llm::LlamaEmbedder>(eo);
  return [embedder](const std::vector<std::string>& texts) { return embedder->embed(texts); };
}
bool have_llama() { return true; }

#else

std::unique_ptr<Resource> make_llama_resource(const ConfigTable&) {
  throw ConfigError(
      "this ksparse was built without llama.cpp (KSPARSE_WITH_LLAMA=OFF): the LLM "
      "stages cannot run; rebuild with it or disable [synth]");
}
synonyms::EmbedFn make_llama_embed(const ConfigTable&) {
  throw ConfigError(
      "this ksparse was built without llama.cpp (KSPARSE_WITH_LLAMA=OFF): set "
      "`synonyms.embeddings = false` or rebuild with it");
}
bool have_llama() { return false; }

#endif

}  // namespace ksparse::pipeline::detail
