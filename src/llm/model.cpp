// Loading a GGUF through llama.cpp, with our own checks first so that the common failures (wrong
// path, wrong file, incomplete download) get a message that says what to do.
#include "ksparse/llm/model.h"

#include <fmt/format.h>
#include <gguf.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>

#include "ksparse/core/error.h"
#include "llama_internal.h"

namespace ksparse::llm {
namespace fs = std::filesystem;

LoadMode parse_load_mode(const std::string& text, const std::string& setting) {
  if (text == "auto") return LoadMode::kAuto;
  if (text == "mmap") return LoadMode::kMmap;
  if (text == "none" || text == "read") return LoadMode::kRead;
  throw ConfigError(
      fmt::format("{}: unknown load mode '{}' (use auto, mmap or none)", setting, text));
}

const char* load_mode_name(LoadMode mode) {
  switch (mode) {
    case LoadMode::kAuto:
      return "auto";
    case LoadMode::kMmap:
      return "mmap";
    case LoadMode::kRead:
      return "none";
  }
  return "?";
}

void ModelOptions::validate() const {
  if (path.empty()) throw ConfigError("model path: empty (pass --model <file.gguf>)");
  if (n_gpu_layers < kGpuLayersAuto) {
    throw ConfigError(fmt::format(
        "n_gpu_layers: {} is invalid (use a count >= 0, or -1 / 'auto' to plan it)", n_gpu_layers));
  }
  if (main_gpu < 0) throw ConfigError(fmt::format("main_gpu: {} is negative", main_gpu));
}

void check_gguf_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw ModelError(
        fmt::format("model file not found: {} (check --model, or run scripts/setup.sh "
                    "to download the test model)",
                    path.string()));
  }
  if (fs::is_directory(path, ec)) {
    throw ModelError(fmt::format("model path is a directory, not a .gguf file: {}", path.string()));
  }
  const uint64_t file_bytes = fs::file_size(path, ec);
  std::array<char, 4> magic{};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(fmt::format("cannot open model file {}", path.string()));
    in.read(magic.data(), magic.size());
    if (in.gcount() < 4) {
      throw ModelError(
          fmt::format("{} is not a GGUF file: only {} bytes long", path.string(), file_bytes));
    }
  }
  if (std::string(magic.data(), 4) != "GGUF") {
    throw ModelError(fmt::format(
        "{} is not a GGUF file (it starts with bytes {:02x} {:02x} {:02x} {:02x}, GGUF files start "
        "with 'GGUF'); convert the model with llama.cpp's convert_hf_to_gguf.py",
        path.string(), static_cast<unsigned char>(magic[0]), static_cast<unsigned char>(magic[1]),
        static_cast<unsigned char>(magic[2]), static_cast<unsigned char>(magic[3])));
  }
  init_llama_backend();  // routes gguf's own error log to spdlog
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  std::string reason;
  std::unique_ptr<gguf_context, decltype(&gguf_free)> ctx(nullptr, &gguf_free);
  {
    detail::LogCapture capture(
        [&](const std::string& line) {
          if (reason.empty()) reason = line;
        },
        /*forward=*/false);
    ctx.reset(gguf_init_from_file(path.string().c_str(), params));
  }
  if (!ctx) {
    throw ModelError(fmt::format(
        "{}: GGUF header is truncated or corrupt ({} bytes on disk; gguf: {}); download the file "
        "again",
        path.string(), file_bytes, reason.empty() ? "no details" : reason));
  }
  uint64_t end = 0;
  const int64_t n_tensors = gguf_get_n_tensors(ctx.get());
  for (int64_t i = 0; i < n_tensors; ++i) {
    end = std::max<uint64_t>(
        end, gguf_get_tensor_offset(ctx.get(), i) + gguf_get_tensor_size(ctx.get(), i));
  }
  if (n_tensors > 0) end += gguf_get_data_offset(ctx.get());
  if (end > file_bytes) {
    throw ModelError(fmt::format(
        "{}: GGUF file is truncated: its tensor data ends at byte {} but the file has {} bytes "
        "(incomplete download or copy?); download the file again",
        path.string(), end, file_bytes));
  }
}

std::vector<GpuDevice> list_gpu_devices() {
  init_llama_backend();
  std::vector<GpuDevice> out;
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    if (ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_GPU) continue;
    GpuDevice d;
    d.name = ggml_backend_dev_name(dev);
    d.description = ggml_backend_dev_description(dev);
    size_t free = 0, total = 0;
    ggml_backend_dev_memory(dev, &free, &total);
    d.free_bytes = free;
    d.total_bytes = total;
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

std::string model_meta(const llama_model* model, const char* key) {
  std::string buf(256, '\0');
  int32_t n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
  if (n < 0) return "";
  if (static_cast<size_t>(n) >= buf.size()) {
    buf.resize(static_cast<size_t>(n) + 1);
    n = llama_model_meta_val_str(model, key, buf.data(), buf.size());
  }
  buf.resize(static_cast<size_t>(std::max(n, 0)));
  return buf;
}

llama_load_mode to_llama(LoadMode mode) {
  switch (mode) {
    case LoadMode::kMmap:
      return LLAMA_LOAD_MODE_MMAP;
    case LoadMode::kRead:
      return LLAMA_LOAD_MODE_NONE;
    case LoadMode::kAuto:
      break;
  }
  return LLAMA_LOAD_MODE_AUTO;
}

}  // namespace

Model::Impl::~Impl() {
  if (model != nullptr) llama_model_free(model);
}

Model::Model(const ModelOptions& options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  init_llama_backend();
  check_gguf_file(options.path);
  impl_->options = options;
  // Weights can run matmuls from here on: the process's tiled-matmul choice becomes final (throws
  // when a batch-invariant load comes after the tiled kernel was settled).
  if (!options.vocab_only) {
    settle_cpu_matmul_kernels(options.batch_invariant ? std::optional<bool>(true) : std::nullopt);
  }

  const bool have_gpu = !list_gpu_devices().empty();
  int ngl = options.n_gpu_layers;
  if (ngl == kGpuLayersAuto) ngl = have_gpu ? -1 : 0;  // llama.cpp: negative = all layers
  if (!have_gpu) ngl = 0;

  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = ngl;
  params.split_mode = LLAMA_SPLIT_MODE_NONE;  // the plan puts every offloaded layer on main_gpu
  params.main_gpu = options.main_gpu;
  params.load_mode = to_llama(options.load_mode);
  params.vocab_only = options.vocab_only;
  params.use_extra_bufts = options.repacks();

  // Keep llama.cpp's last lines: when it refuses a file, they say why.
  std::deque<std::string> last_lines;
  llama_model* model = nullptr;
  {
    detail::LogCapture capture([&](const std::string& line) {
      last_lines.push_back(line);
      if (last_lines.size() > 4) last_lines.pop_front();
    });
    model = llama_model_load_from_file(options.path.string().c_str(), params);
  }
  if (model == nullptr) {
    std::string why;
    for (const auto& l : last_lines) why += "\n  " + l;
    throw ModelError(fmt::format("llama.cpp could not load {}; its last log lines:{}",
                                 options.path.string(), why));
  }
  impl_->model = model;
  impl_->vocab = llama_model_get_vocab(model);
  impl_->n_gpu_layers = options.vocab_only ? 0 : (ngl < 0 ? llama_model_n_layer(model) + 1 : ngl);

  ModelInfo& info = impl_->info;
  info.architecture = model_meta(model, "general.architecture");
  info.name = model_meta(model, "general.name");
  std::error_code ec;
  info.file_bytes = fs::file_size(options.path, ec);
  // A vocab-only model has no hyperparameters loaded (llama.cpp aborts on queries), so only the
  // tokenizer facts are filled in.
  if (!options.vocab_only) {
    std::array<char, 256> desc{};
    llama_model_desc(model, desc.data(), desc.size());
    info.description = desc.data();
    info.file_type = llama_ftype_name(llama_model_ftype(model));
    info.n_params = llama_model_n_params(model);
    info.tensor_bytes = llama_model_size(model);
    info.n_ctx_train = llama_model_n_ctx_train(model);
    info.n_layer = llama_model_n_layer(model);
    info.n_embd = llama_model_n_embd(model);
    info.n_head = llama_model_n_head(model);
    info.n_head_kv = llama_model_n_head_kv(model);
    info.n_swa = llama_model_n_swa(model);
  }
  info.n_vocab = llama_vocab_n_tokens(impl_->vocab);
  const char* tmpl = llama_model_chat_template(model, nullptr);
  info.has_chat_template = tmpl != nullptr && *tmpl != '\0';
  info.chat_template = info.has_chat_template ? tmpl : "";
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const ModelInfo& Model::info() const { return impl_->info; }
const ModelOptions& Model::options() const { return impl_->options; }
int Model::n_gpu_layers() const { return impl_->n_gpu_layers; }

std::string Model::meta(const std::string& key) const {
  return model_meta(impl_->model, key.c_str());
}

std::vector<int32_t> Model::tokenize(const std::string& text, bool add_special) const {
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(impl_->vocab, text.data(), static_cast<int32_t>(text.size()),
                             tokens.data(), static_cast<int32_t>(tokens.size()), add_special,
                             /*parse_special=*/false);
  if (n < 0) {
    tokens.resize(static_cast<size_t>(-n));
    n = llama_tokenize(impl_->vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), add_special, false);
  }
  if (n < 0)
    throw ModelError("tokenizer failed on a text of " + std::to_string(text.size()) + " bytes");
  tokens.resize(static_cast<size_t>(n));
  return {tokens.begin(), tokens.end()};
}

std::string Model::token_to_piece(int32_t token, bool special) const {
  std::string buf(32, '\0');
  int32_t n = llama_token_to_piece(impl_->vocab, token, buf.data(),
                                   static_cast<int32_t>(buf.size()), 0, special);
  if (n < 0) {
    buf.resize(static_cast<size_t>(-n));
    n = llama_token_to_piece(impl_->vocab, token, buf.data(), static_cast<int32_t>(buf.size()), 0,
                             special);
  }
  buf.resize(static_cast<size_t>(std::max(n, 0)));
  return buf;
}

}  // namespace ksparse::llm
