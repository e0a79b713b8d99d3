// ksparse llm info|generate|bench: the in-process llama.cpp runtime from the command line.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/llm/chat_format.h"
#include "ksparse/llm/http_backend.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/llm/memory_plan.h"
#include "ksparse/llm/model.h"

namespace ksparse::cli {
namespace {

using json = nlohmann::json;
namespace llm = ksparse::llm;

// Flags shared by every llm subcommand: which model, how to place it, how big a context.
struct LlmFlags {
  std::string model;
  std::string ngl = "auto";
  int main_gpu = 0;
  std::string load_mode = "auto";
  std::string gpu_mem_budget;   // "" = the GPU's free memory
  std::string host_mem_budget;  // "" = not checked
  int ctx = 0;                  // 0 = per-command default
  int parallel = 1;
  std::string kv_type = "f16";
  bool kv_unified = false;
  std::string flash_attn = "auto";
  int threads = 0;
  int n_batch = 2048;
  int n_ubatch = 512;
  bool cpu_repack = true;
  bool batch_invariant = false;
};

void add_llm_flags(CLI::App* cmd, LlmFlags& f, int default_parallel) {
  f.parallel = default_parallel;
  cmd->add_option("--model,-m", f.model, "GGUF model file")->required();
  cmd->add_option("--ngl", f.ngl,
                  "GPU layers: a count, or 'auto' (largest that fits the budget; "
                  "0 without a GPU)")
      ->capture_default_str();
  cmd->add_option("--main-gpu", f.main_gpu, "GPU index for offloaded layers")
      ->capture_default_str();
  cmd->add_option("--load-mode", f.load_mode, "auto|mmap|none")->capture_default_str();
  cmd->add_option("--gpu-mem-budget", f.gpu_mem_budget,
                  "GPU memory for weights + KV + compute, e.g. 12GiB (default: free memory)");
  cmd->add_option("--host-mem-budget", f.host_mem_budget,
                  "host RAM budget, e.g. 8GiB (default: unchecked)");
  cmd->add_option("--ctx", f.ctx, "KV cells over all sequences (0 = 1024 per sequence)")
      ->capture_default_str();
  cmd->add_option("--parallel,-p", f.parallel, "sequences decoded together")->capture_default_str();
  cmd->add_option("--kv-type", f.kv_type, "f16|q8_0|f32")->capture_default_str();
  cmd->add_flag("--kv-unified", f.kv_unified, "one KV buffer shared by all sequences");
  cmd->add_option("--flash-attn", f.flash_attn,
                  "auto|on|off (auto: llama.cpp's choice, on where supported; off on the CPU with "
                  "--batch-invariant)")
      ->capture_default_str();
  cmd->add_option("--threads,-t", f.threads, "CPU threads (0 = all)")->capture_default_str();
  cmd->add_option("--batch", f.n_batch, "tokens per llama_decode call")->capture_default_str();
  cmd->add_option("--ubatch", f.n_ubatch, "tokens per compute step")->capture_default_str();
  cmd->add_flag("--cpu-repack,!--no-cpu-repack", f.cpu_repack,
                "llama.cpp's repacked CPU weight layouts (default on; --no-cpu-repack for a build "
                "whose AMX kernels SIGILL in a VM)");
  cmd->add_flag("--batch-invariant", f.batch_invariant,
                "CPU kernels whose results do not depend on batch mates (greedy output equal at "
                "any --parallel; ~20% slower): no repacking, no CPU flash attention, no tiled "
                "K-quant matmul");
}

llm::LlamaBackendOptions to_backend_options(const LlmFlags& f, int default_ctx_per_seq = 1024) {
  llm::LlamaBackendOptions o;
  o.model.path = f.model;
  if (f.ngl == "auto") {
    o.model.n_gpu_layers = llm::kGpuLayersAuto;
  } else {
    try {
      size_t pos = 0;
      o.model.n_gpu_layers = std::stoi(f.ngl, &pos);
      if (pos != f.ngl.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("--ngl: '{}' is neither a count nor 'auto'", f.ngl));
    }
  }
  o.model.main_gpu = f.main_gpu;
  o.model.cpu_repack = f.cpu_repack;
  o.model.load_mode = llm::parse_load_mode(f.load_mode, "--load-mode");
  if (!f.gpu_mem_budget.empty()) {
    o.budget.gpu_bytes = llm::parse_byte_size(f.gpu_mem_budget, "--gpu-mem-budget");
  }
  if (!f.host_mem_budget.empty()) {
    o.budget.host_bytes = llm::parse_byte_size(f.host_mem_budget, "--host-mem-budget");
  }
  o.context.n_parallel = f.parallel;
  o.context.n_ctx = f.ctx > 0 ? f.ctx : default_ctx_per_seq * std::max(f.parallel, 1);
  o.context.kv_type = llm::parse_kv_type(f.kv_type, "--kv-type");
  o.context.kv_unified = f.kv_unified;
  o.context.flash_attn = llm::parse_flash_attn(f.flash_attn, "--flash-attn");
  o.context.batch_invariant = f.batch_invariant;
  o.context.n_threads = f.threads;
  o.context.n_batch = f.n_batch;
  o.context.n_ubatch = f.n_ubatch;
  o.model.validate();
  o.context.validate();
  return o;
}

std::string thousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

json device_json(const llm::DeviceMemory& d) {
  return {{"device", d.name},
          {"gpu", d.gpu},
          {"layers", d.n_layers},
          {"output_layer", d.output_layer},
          {"weights_bytes", d.weights_bytes},
          {"kv_bytes", d.kv_bytes},
          {"compute_bytes", d.compute_bytes},
          {"total_bytes", d.total()},
          {"budget_bytes", d.budget_bytes}};
}

// ---------------------------------------------------------------------------------------- info

struct InfoOptions {
  LlmFlags flags;
  bool json = false;
  bool measure = false;
};

void run_info(const InfoOptions& opt) {
  llm::LlamaBackendOptions o =
      to_backend_options(opt.flags, 4096 / std::max(opt.flags.parallel, 1));
  if (opt.flags.ctx == 0) o.context.n_ctx = 4096;
  const llm::GgufLayout layout = llm::read_gguf_layout(o.model.path);
  const auto gpus = llm::list_gpu_devices();
  const llm::MemoryPlan plan =
      llm::plan_memory(layout, o.context, o.model.n_gpu_layers, o.model.main_gpu, gpus, o.budget);
  llm::ModelOptions mo = o.model;
  mo.n_gpu_layers = plan.n_gpu_layers;
  std::unique_ptr<llm::LlamaBackend> backend;
  std::unique_ptr<llm::Model> own_model;
  const llm::Model* model = nullptr;
  if (opt.measure) {
    backend = std::make_unique<llm::LlamaBackend>(o);
    model = &backend->model();
  } else {
    own_model = std::make_unique<llm::Model>(mo);
    model = own_model.get();
  }
  const llm::ModelInfo& info = model->info();
  int n_swa_layers = 0;
  for (bool b : layout.swa_layer) n_swa_layers += b ? 1 : 0;

  if (opt.json) {
    json j;
    j["model"] = o.model.path.string();
    j["architecture"] = info.architecture;
    j["name"] = info.name;
    j["description"] = info.description;
    j["file_type"] = info.file_type;
    j["n_params"] = info.n_params;
    j["tensor_bytes"] = info.tensor_bytes;
    j["file_bytes"] = info.file_bytes;
    j["n_ctx_train"] = info.n_ctx_train;
    j["n_layer"] = info.n_layer;
    j["n_embd"] = info.n_embd;
    j["n_head"] = info.n_head;
    j["n_head_kv"] = info.n_head_kv;
    j["head_dim_k"] = layout.head_dim_k;
    j["head_dim_v"] = layout.head_dim_v;
    j["n_swa"] = info.n_swa;
    j["n_swa_layers"] = n_swa_layers;
    j["n_vocab"] = info.n_vocab;
    j["has_chat_template"] = info.has_chat_template;
    j["gpus"] = json::array();
    for (const auto& g : gpus) {
      j["gpus"].push_back({{"name", g.name},
                           {"description", g.description},
                           {"free_bytes", g.free_bytes},
                           {"total_bytes", g.total_bytes}});
    }
    json p;
    p["n_ctx"] = plan.n_ctx;
    p["n_ctx_seq"] = plan.n_ctx_seq;
    p["n_parallel"] = o.context.n_parallel;
    p["kv_type"] = llm::kv_type_name(o.context.kv_type);
    p["kv_unified"] = o.context.kv_unified;
    p["kv_cells"] = plan.kv_cells;
    p["kv_cells_swa"] = plan.kv_cells_swa;
    p["n_gpu_layers"] = plan.n_gpu_layers;
    p["note"] = plan.note;
    p["devices"] = json::array();
    for (const auto& d : plan.devices) p["devices"].push_back(device_json(d));
    p["total_bytes"] = plan.total();
    j["memory_plan"] = p;
    if (backend) {
      j["measured"] = json::array();
      for (const auto& m : backend->measured()) {
        j["measured"].push_back(
            {{"buffer", m.buffer}, {"kv_bytes", m.kv_bytes}, {"compute_bytes", m.compute_bytes}});
      }
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }

  std::string out;
  auto line = [&](const std::string& k, const std::string& v) {
    out += fmt::format("{:<16}{}\n", k, v);
  };
  line("model", o.model.path.string());
  line("architecture", info.architecture);
  line("name", info.name.empty() ? "-" : info.name);
  line("description", info.description);
  line("parameters", fmt::format("{} ({:.1f} M)", thousands(info.n_params), info.n_params / 1e6));
  line("quantisation", info.file_type);
  line("file size", fmt::format("{} ({} bytes)", llm::format_bytes(info.file_bytes),
                                thousands(info.file_bytes)));
  line("context length", fmt::format("{} tokens (training)", info.n_ctx_train));
  line("layers",
       fmt::format("{} (n_embd {}, n_head {}, n_head_kv {}, head_dim {}/{})", info.n_layer,
                   info.n_embd, info.n_head, info.n_head_kv, layout.head_dim_k, layout.head_dim_v));
  line("sliding window", info.n_swa > 0 ? fmt::format("{} tokens on {} of {} layers", info.n_swa,
                                                      n_swa_layers, info.n_layer)
                                        : std::string("none"));
  line("vocabulary", thousands(static_cast<uint64_t>(info.n_vocab)));
  line("chat template", info.has_chat_template ? "present in the GGUF" : "none in the GGUF");
  if (gpus.empty()) {
    line("GPUs", "none (CPU-only build or machine)");
  } else {
    for (const auto& g : gpus) {
      line("GPU", fmt::format("{} {} ({} free of {})", g.name, g.description,
                              llm::format_bytes(g.free_bytes), llm::format_bytes(g.total_bytes)));
    }
  }
  out +=
      fmt::format("\nmemory plan: n_ctx {} ({} per sequence, {} streams), parallel {}, KV {}{}\n",
                  plan.n_ctx, plan.n_ctx_seq, plan.n_stream, o.context.n_parallel,
                  llm::kv_type_name(o.context.kv_type), o.context.kv_unified ? " unified" : "");
  out += fmt::format("  KV cells: {} full-attention, {} sliding-window\n", plan.kv_cells,
                     plan.kv_cells_swa);
  out += fmt::format("  n_gpu_layers: {} ({})\n", plan.n_gpu_layers, plan.note);
  out += fmt::format("  {:<8}{:>8}{:>14}{:>14}{:>14}{:>14}{:>14}\n", "device", "layers", "weights",
                     "KV cache", "compute", "total", "budget");
  for (const auto& d : plan.devices) {
    out += fmt::format("  {:<8}{:>8}{:>14}{:>14}{:>14}{:>14}{:>14}\n", d.name,
                       fmt::format("{}{}", d.n_layers, d.output_layer ? "+out" : ""),
                       llm::format_bytes(d.weights_bytes), llm::format_bytes(d.kv_bytes),
                       llm::format_bytes(d.compute_bytes), llm::format_bytes(d.total()),
                       d.budget_bytes ? llm::format_bytes(d.budget_bytes) : std::string("-"));
  }
  out += fmt::format("  {:<8}{:>8}{:>14}{:>14}{:>14}{:>14}\n", "total", "", "", "", "",
                     llm::format_bytes(plan.total()));
  if (backend) {
    out += "measured by llama.cpp when creating the context:\n";
    for (const auto& m : backend->measured()) {
      out += fmt::format("  {:<8}  KV {}  compute+output {}\n", m.buffer,
                         llm::format_bytes(m.kv_bytes), llm::format_bytes(m.compute_bytes));
    }
  }
  std::fputs(out.c_str(), stdout);
}

// ------------------------------------------------------------------------------------ generate

struct GenerateOptions {
  LlmFlags flags;
  std::string prompt_file;
  int max_tokens = 128;
  float temp = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  uint32_t seed = 1234;
  std::vector<std::string> stop;
  bool json = false;
  // Chat and constrained output.
  bool chat = false;               // each prompt is one user message
  std::string system;              // system message for --chat ("" = none)
  std::string family = "auto";     // auto|qwen3|gpt-oss|gemma3|template
  std::string reasoning = "low";   // gpt-oss reasoning effort
  bool thinking = false;           // qwen3 thinking mode
  std::string json_schema_file;    // JSON schema file -> grammar / response_format
  std::string grammar_file;        // GBNF file (start rule "root")
  bool sampling_flags_given = false;  // --temp/--top-k/--top-p/--min-p on the command line
  std::string backend = "llama";  // llama | http
  llm::HttpBackendOptions http;   // --backend http: --url, --api-model, --api-key-env, ...
  std::string dialect = "llama-server";
};

void add_http_flags(CLI::App* cmd, GenerateOptions& g) {
  cmd->add_option("--backend", g.backend, "llama (in process, needs --model) | http")
      ->capture_default_str();
  cmd->add_option("--url", g.http.base_url,
                  "http: server root or its /v1 prefix, e.g. http://127.0.0.1:8080");
  cmd->add_option("--api-model", g.http.model, "http: the request's \"model\" field");
  cmd->add_option("--api-key-env", g.http.api_key_env,
                  "http: environment variable holding the API key (sent as a Bearer token)");
  cmd->add_option("--dialect", g.dialect,
                  "http: llama-server (sends top_k/min_p/grammar) | openai (OpenAI fields only)")
      ->capture_default_str();
  cmd->add_option("--concurrency", g.http.concurrency, "http: requests in flight at once")
      ->capture_default_str();
  cmd->add_option("--timeout-s", g.http.request_timeout_s, "http: seconds per attempt")
      ->capture_default_str();
  cmd->add_option("--connect-timeout-s", g.http.connect_timeout_s, "http: seconds to connect")
      ->capture_default_str();
  cmd->add_option("--retries", g.http.max_retries,
                  "http: retries on connection errors, timeouts, 408/429/5xx, malformed bodies")
      ->capture_default_str();
}

// One prompt per line, or JSONL objects with a "prompt" string. Empty lines are skipped.
std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read prompt file {}", path));
  std::vector<std::string> prompts;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.front() == '{') {
      json j;
      try {
        j = json::parse(line);
      } catch (const json::parse_error& e) {
        throw DataError(fmt::format("{}: invalid JSON ({})", where(path, line_no), e.what()));
      }
      if (!j.contains("prompt") || !j["prompt"].is_string()) {
        throw DataError(
            fmt::format("{}: JSON line has no string \"prompt\"", where(path, line_no)));
      }
      prompts.push_back(j["prompt"].get<std::string>());
    } else {
      prompts.push_back(line);
    }
  }
  if (prompts.empty()) throw DataError(fmt::format("{}: no prompts", path));
  return prompts;
}

void print_progress(const llm::GenerationProgress& p) {
  const double tps = p.elapsed_s > 0 ? static_cast<double>(p.generated_tokens) / p.elapsed_s : 0.0;
  const double rate = p.elapsed_s > 0 ? static_cast<double>(p.done) / p.elapsed_s : 0.0;
  const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0.0;
  if (isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "\r%zu/%zu prompts, %.1f gen tok/s, ETA %.0fs   ", p.done, p.total, tps,
                 eta);
    if (p.done == p.total) std::fprintf(stderr, "\n");
  } else {
    spdlog::info("llm generate: {}/{} prompts, {} prompt + {} generated tokens, {:.1f} gen tok/s",
                 p.done, p.total, p.prompt_tokens, p.generated_tokens, tps);
  }
}

std::string read_text_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot read {}", flag, path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

llm::ChatFormatOptions chat_options(const GenerateOptions& opt) {
  llm::ChatFormatOptions c;
  c.family = llm::parse_chat_family(opt.family, "--family");
  c.reasoning = llm::parse_reasoning_effort(opt.reasoning, "--reasoning");
  c.thinking = opt.thinking;
  return c;
}

// --chat without explicit sampling flags samples as the model family's card recommends.
void apply_family_sampling(const GenerateOptions& opt, llm::ChatFamily family,
                           std::vector<llm::GenerationRequest>& reqs) {
  if (!opt.chat || opt.sampling_flags_given) return;
  const llm::SamplingOptions d = llm::default_sampling(family, opt.thinking);
  spdlog::info("llm generate: chat family {}: sampling T {} top-k {} top-p {} min-p {}",
               llm::chat_family_name(family), d.temperature, d.top_k, d.top_p, d.min_p);
  for (auto& r : reqs) {
    r.sampling.temperature = d.temperature;
    r.sampling.top_k = d.top_k;
    r.sampling.top_p = d.top_p;
    r.sampling.min_p = d.min_p;
  }
}

void run_generate(const GenerateOptions& opt) {
  if (opt.backend != "llama" && opt.backend != "http") {
    throw ConfigError(fmt::format("--backend: '{}' (expected llama or http)", opt.backend));
  }
  const bool http = opt.backend == "http";
  if (http && opt.http.base_url.empty()) throw ConfigError("--backend http needs --url");
  if (!http && opt.flags.model.empty()) throw ConfigError("--backend llama needs --model");
  const auto prompts = read_prompts(opt.prompt_file);
  if (!opt.grammar_file.empty() && !opt.json_schema_file.empty()) {
    throw ConfigError("--grammar and --json-schema: give at most one");
  }
  const std::string grammar =
      opt.grammar_file.empty() ? "" : read_text_file(opt.grammar_file, "--grammar");
  const std::string json_schema =
      opt.json_schema_file.empty() ? "" : read_text_file(opt.json_schema_file, "--json-schema");
  std::vector<llm::GenerationRequest> reqs(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    reqs[i].prompt = prompts[i];
    reqs[i].max_tokens = opt.max_tokens;
    reqs[i].stop = opt.stop;
    reqs[i].sampling.temperature = opt.temp;
    reqs[i].sampling.top_k = opt.top_k;
    reqs[i].sampling.top_p = opt.top_p;
    reqs[i].sampling.min_p = opt.min_p;
    reqs[i].sampling.repeat_penalty = opt.repeat_penalty;
    reqs[i].sampling.presence_penalty = opt.presence_penalty;
    if (opt.chat) {
      reqs[i].prompt.clear();
      if (!opt.system.empty()) reqs[i].messages.push_back({"system", opt.system});
      reqs[i].messages.push_back({"user", prompts[i]});
    }
    reqs[i].grammar = grammar;
    reqs[i].json_schema = json_schema;
    try {
      reqs[i].validate();
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format(
          "{}{}", !grammar.empty() ? "--grammar " + opt.grammar_file + ": "
                  : !json_schema.empty() ? "--json-schema " + opt.json_schema_file + ": "
                                         : std::string(),
          e.what()));
    }
  }
  // Results that arrived are printed even when other requests failed for good (http); the
  // failures are raised after them.
  llm::HttpPartialResult partial;
  const auto t0 = std::chrono::steady_clock::now();
  if (http) {
    llm::HttpBackendOptions ho = opt.http;
    ho.dialect = llm::parse_http_dialect(opt.dialect, "--dialect");
    ho.base_seed = opt.seed;
    ho.on_progress = print_progress;
    llm::HttpBackend backend(ho);
    spdlog::info("llm generate: {} prompts to {} ({}), {} in flight", reqs.size(),
                 backend.completions_url(), llm::http_dialect_name(ho.dialect), ho.concurrency);
    partial = backend.generate_partial(reqs);
  } else {
    llm::LlamaBackendOptions o = to_backend_options(opt.flags);
    o.base_seed = opt.seed;
    o.on_progress = print_progress;
    o.chat = chat_options(opt);
    llm::LlamaBackend backend(o);
    apply_family_sampling(opt, backend.chat_family(), reqs);
    spdlog::info("llm generate: {} prompts, parallel {}, {} tokens per sequence, {} GPU layers",
                 reqs.size(), o.context.n_parallel, backend.n_ctx_seq(),
                 backend.plan().n_gpu_layers);
    for (auto& r : backend.generate(reqs)) partial.results.emplace_back(std::move(r));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t n_prompt = 0, n_gen = 0;
  size_t n_done = 0;
  for (size_t i = 0; i < partial.results.size(); ++i) {
    if (!partial.results[i]) continue;
    ++n_done;
    const auto& r = *partial.results[i];
    n_prompt += static_cast<uint64_t>(r.prompt_tokens);
    n_gen += static_cast<uint64_t>(r.generated_tokens);
    if (opt.json) {
      json j = {{"index", i},
                {"prompt", prompts[i]},
                {"text", r.text},
                {"prompt_tokens", r.prompt_tokens},
                {"generated_tokens", r.generated_tokens},
                {"mean_logprob", r.mean_logprob},
                {"finish", llm::finish_reason_name(r.finish)}};
      if (!r.reasoning.empty()) j["reasoning"] = r.reasoning;
      std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      std::printf("=== %zu (%s, %d tokens, mean logprob %.3f)\n%s\n", i,
                  llm::finish_reason_name(r.finish), r.generated_tokens, r.mean_logprob,
                  r.text.c_str());
    }
  }
  spdlog::info(
      "llm generate: {} prompts in {:.2f}s: {} prompt + {} generated tokens, {:.1f} gen "
      "tok/s, {:.1f} total tok/s",
      n_done, wall, n_prompt, n_gen, n_gen / wall, (n_prompt + n_gen) / wall);
  std::fflush(stdout);
  if (!partial.ok()) throw llm::HttpGenerationError(std::move(partial));
}

// --------------------------------------------------------------------------------------- bench

struct BenchOptions {
  LlmFlags flags;
  std::string parallel_list = "1,4,8,16";
  int n_prompt = 256;
  int n_gen = 64;
  bool json = false;
};

// Peak resident set size since the last reset, in MiB (Linux: VmHWM; reset via clear_refs).
double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

void reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

void run_bench(const BenchOptions& opt) {
  std::vector<int> levels;
  {
    std::stringstream ss(opt.parallel_list);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        levels.push_back(std::stoi(item));
      } catch (const std::exception&) {
        throw ConfigError(fmt::format("--parallel: '{}' is not a comma-separated list of counts",
                                      opt.parallel_list));
      }
    }
  }
  if (opt.n_prompt < 1 || opt.n_gen < 1) throw ConfigError("--n-prompt and --n-gen must be >= 1");
  json rows = json::array();
  for (int p : levels) {
    LlmFlags f = opt.flags;
    f.parallel = p;
    llm::LlamaBackendOptions o = to_backend_options(f);
    // Room for every sequence's prompt and generation at once.
    o.context.n_ctx = p * (opt.n_prompt + opt.n_gen + 8);
    // Every sequence gets the same prompt, which shared-prefix reuse would decode once (and the
    // second call not at all); the bench measures decoding each prompt, as llama-batched-bench does.
    o.reuse_prefix = false;
    reset_peak_rss();
    llm::LlamaBackend backend(o);
    // A prompt of exactly n_prompt tokens: BOS + filler text cut at n_prompt - 1 tokens.
    std::string filler;
    while (backend.model().tokenize(filler, false).size() < static_cast<size_t>(opt.n_prompt)) {
      filler +=
          "The quick brown fox jumps over the lazy dog while the search engine indexes "
          "documents about neural sparse retrieval in Korean and English. ";
    }
    auto toks = backend.model().tokenize(filler, false);
    std::string prompt;
    for (int i = 0; i < opt.n_prompt - 1; ++i) prompt += backend.model().token_to_piece(toks[i]);
    std::vector<llm::GenerationRequest> reqs(static_cast<size_t>(p));
    for (auto& r : reqs) {
      r.prompt = prompt;
      r.sampling.temperature = 0.0f;
      r.ignore_eos = true;
      r.max_tokens = 1;
    }
    // Warm-up (as llama-batched-bench does): one token per sequence pages the weights in and
    // sizes the buffers; then the measured call. Rates come from the backend's step timings:
    // prompt steps (prompt tokens / their time) and generation steps (tokens decoded in steps
    // with no prompt tokens / their time, sampling included), the split llama-batched-bench
    // reports as pp and tg.
    backend.generate(reqs);
    for (auto& r : reqs) r.max_tokens = opt.n_gen;
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = backend.generate(reqs);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const llm::LlamaBackend::StepTimings& t = backend.last_timings();
    uint64_t gen_tokens = 0;
    for (const auto& r : res) gen_tokens += static_cast<uint64_t>(r.generated_tokens);
    const char* omp_wait = std::getenv("OMP_WAIT_POLICY");
    json row = {{"parallel", p},
                {"n_prompt", opt.n_prompt},
                {"n_gen", opt.n_gen},
                {"pp_tok_s", static_cast<double>(t.prompt_tokens) / std::max(t.prompt_seconds, 1e-9)},
                {"gen_tok_s", static_cast<double>(t.generation_tokens) /
                                  std::max(t.generation_seconds, 1e-9)},
                {"prompt_seconds", t.prompt_seconds},
                {"generation_seconds", t.generation_seconds},
                {"generated_tokens", gen_tokens},
                {"wall_s", wall},
                {"peak_rss_mib", peak_rss_mib()},
                {"omp_wait_policy", omp_wait ? omp_wait : "(unset)"},
                {"batch_invariant", o.context.batch_invariant},
                {"cpu_repack", backend.model().options().repacks()},
                {"flash_attn", backend.plan().flash_attn},
                {"tiled_mm", llm::settle_cpu_matmul_kernels(std::nullopt)},
                {"n_gpu_layers", backend.plan().n_gpu_layers}};
    if (!opt.json) {
      std::printf(
          "parallel %3d  pp %8.1f tok/s  gen %8.1f tok/s  wall %6.2fs  peak RSS %7.1f MiB\n", p,
          row["pp_tok_s"].get<double>(), row["gen_tok_s"].get<double>(), wall,
          row["peak_rss_mib"].get<double>());
      std::fflush(stdout);
    }
    rows.push_back(row);
  }
  if (opt.json) std::printf("%s\n", rows.dump(2).c_str());
}

}  // namespace

void add_llm_commands(CLI::App& app) {
  auto* llm_cmd = app.add_subcommand("llm", "Local LLM runtime (llama.cpp)");
  llm_cmd->require_subcommand(1);
  // Route llama.cpp's log through spdlog at the CLI's level (its warnings show at debug).
  llm_cmd->parse_complete_callback([] { llm::set_llama_log_level(spdlog::get_level()); });

  auto info = std::make_shared<InfoOptions>();
  auto* info_cmd = llm_cmd->add_subcommand(
      "info", "Model metadata from llama.cpp and the memory plan per device");
  add_llm_flags(info_cmd, info->flags, 1);
  info_cmd->add_flag("--json", info->json, "print JSON");
  info_cmd->add_flag("--measure", info->measure,
                     "also create the context and print the sizes llama.cpp allocates");
  info_cmd->callback([info] { run_info(*info); });

  auto gen = std::make_shared<GenerateOptions>();
  auto* gen_cmd = llm_cmd->add_subcommand("generate", "Complete prompts with parallel sequences");
  add_llm_flags(gen_cmd, gen->flags, 8);
  gen_cmd->get_option("--model")->required(false);
  add_http_flags(gen_cmd, *gen);
  gen_cmd
      ->add_option("--prompt-file,-f", gen->prompt_file,
                   "one prompt per line, or JSONL with {\"prompt\": ...}")
      ->required();
  gen_cmd->add_option("--max-tokens,-n", gen->max_tokens, "tokens to generate at most")
      ->capture_default_str();
  gen_cmd->add_option("--temp", gen->temp, "temperature (0 = greedy)")->capture_default_str();
  gen_cmd->add_option("--top-k", gen->top_k, "0 = off")->capture_default_str();
  gen_cmd->add_option("--top-p", gen->top_p, "1 = off")->capture_default_str();
  gen_cmd->add_option("--min-p", gen->min_p, "0 = off")->capture_default_str();
  gen_cmd->add_option("--repeat-penalty", gen->repeat_penalty, "1 = off")->capture_default_str();
  gen_cmd->add_option("--presence-penalty", gen->presence_penalty, "0 = off")
      ->capture_default_str();
  gen_cmd->add_option("--seed", gen->seed, "base seed (request i uses seed + i)")
      ->capture_default_str();
  gen_cmd->add_option("--stop", gen->stop, "stop string (repeatable)");
  gen_cmd->add_flag("--json", gen->json, "print one JSON object per prompt");
  gen_cmd->add_flag("--chat", gen->chat,
                    "each prompt is a user message, rendered with the model family's chat format "
                    "(sampling defaults from the family's model card unless --temp/--top-k/"
                    "--top-p/--min-p are given)");
  gen_cmd->add_option("--system", gen->system, "system message for --chat");
  gen_cmd->add_option("--family", gen->family,
                      "chat format: auto (from the GGUF) | qwen3 | gpt-oss | gemma3 | template "
                      "(the GGUF's own template via llama.cpp)")
      ->capture_default_str();
  gen_cmd->add_option("--reasoning", gen->reasoning, "gpt-oss reasoning effort: low|medium|high")
      ->capture_default_str();
  gen_cmd->add_flag("--thinking", gen->thinking,
                    "qwen3: thinking mode (the think block is stripped from the text)");
  gen_cmd->add_option("--json-schema", gen->json_schema_file,
                      "JSON schema file: outputs are constrained to match it (bounded whitespace)");
  gen_cmd->add_option("--grammar", gen->grammar_file, "GBNF grammar file (start rule 'root')");
  gen_cmd->callback([gen, gen_cmd] {
    for (const char* f : {"--temp", "--top-k", "--top-p", "--min-p"}) {
      if (gen_cmd->get_option(f)->count() > 0) gen->sampling_flags_given = true;
    }
    run_generate(*gen);
  });

  auto bench = std::make_shared<BenchOptions>();
  auto* bench_cmd =
      llm_cmd->add_subcommand("bench", "Prompt and generation throughput vs parallelism");
  add_llm_flags(bench_cmd, bench->flags, 1);
  bench_cmd->remove_option(bench_cmd->get_option("--parallel"));
  bench_cmd->add_option("--parallel,-p", bench->parallel_list, "comma-separated levels")
      ->capture_default_str();
  bench_cmd->add_option("--n-prompt", bench->n_prompt, "prompt tokens per sequence")
      ->capture_default_str();
  bench_cmd->add_option("--n-gen", bench->n_gen, "generated tokens per sequence")
      ->capture_default_str();
  bench_cmd->add_flag("--json", bench->json, "print a JSON array");
  bench_cmd->callback([bench] { run_bench(*bench); });
}

}  // namespace ksparse::cli
