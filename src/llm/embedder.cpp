// Pooled, L2-normalised text embeddings over the sequences of one llama.cpp context.
#include "ksparse/llm/embedder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <thread>

#include "ksparse/core/error.h"
#include "llama_internal.h"

namespace ksparse::llm {

Pooling parse_pooling(const std::string& text, const std::string& setting) {
  if (text == "mean") return Pooling::kMean;
  if (text == "last") return Pooling::kLast;
  throw ConfigError(fmt::format("{}: '{}' (expected mean or last)", setting, text));
}

const char* pooling_name(Pooling pooling) { return pooling == Pooling::kMean ? "mean" : "last"; }

void EmbedderOptions::validate() const {
  model.validate();
  if (model.vocab_only) throw ConfigError("model: vocab_only models cannot embed; load the weights");
  if (n_parallel < 1 || n_parallel > 256) {
    throw ConfigError(fmt::format("n_parallel: {} (must be in [1, 256])", n_parallel));
  }
  if (max_tokens < 2) throw ConfigError(fmt::format("max_tokens: {} (must be >= 2)", max_tokens));
  if (n_batch < max_tokens) {
    throw ConfigError(
        fmt::format("n_batch: {} (must be >= max_tokens {})", n_batch, max_tokens));
  }
  if (n_threads < 0) throw ConfigError(fmt::format("n_threads: {} (must be >= 0)", n_threads));
}

struct LlamaEmbedder::Impl {
  EmbedderOptions opts;
  std::unique_ptr<Model> model;
  llama_context* ctx = nullptr;
  llama_batch batch{};
  bool batch_ready = false;
  int n_embd = 0;
  std::size_t truncated = 0;

  ~Impl() {
    if (batch_ready) llama_batch_free(batch);
    if (ctx != nullptr) llama_free(ctx);
  }

  // Decodes the sequences queued in `batch` (seq ids 0..n_seqs-1) and appends their pooled,
  // normalised vectors to `out`.
  void flush(int n_seqs, std::vector<std::vector<float>>& out) {
    if (n_seqs == 0) return;
    // Every call starts from an empty cache: sequences are independent texts.
    llama_memory_clear(llama_get_memory(ctx), true);
    const int rc = llama_decode(ctx, batch);
    if (rc != 0) {
      throw ModelError(fmt::format("llama_decode failed with {} on an embedding batch of {} tokens "
                                   "in {} sequences",
                                   rc, batch.n_tokens, n_seqs));
    }
    for (int s = 0; s < n_seqs; ++s) {
      const float* v = llama_get_embeddings_seq(ctx, s);
      if (v == nullptr) {
        throw ModelError(fmt::format("llama.cpp returned no pooled embedding for sequence {}", s));
      }
      std::vector<float> e(v, v + n_embd);
      double norm = 0.0;
      for (float x : e) norm += static_cast<double>(x) * x;
      norm = std::sqrt(norm);
      if (norm > 0.0) {
        for (float& x : e) x = static_cast<float>(x / norm);
      }
      out.push_back(std::move(e));
    }
    batch.n_tokens = 0;
  }
};

LlamaEmbedder::LlamaEmbedder(EmbedderOptions options) : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.opts = std::move(options);
  im.opts.validate();
  init_llama_backend();
  im.model = std::make_unique<Model>(im.opts.model);
  im.n_embd = llama_model_n_embd_out(im.model->impl().model);

  const auto n_batch = static_cast<uint32_t>(im.opts.n_batch);
  llama_context_params cp = llama_context_default_params();
  // One shared KV buffer holding exactly one batch (cleared before each decode); the attention mask
  // keeps the sequences apart.
  cp.n_ctx = (n_batch + 255) / 256 * 256;
  cp.n_batch = n_batch;
  // Pooling needs each sequence whole inside one micro-batch.
  cp.n_ubatch = n_batch;
  cp.n_seq_max = static_cast<uint32_t>(im.opts.n_parallel);
  cp.kv_unified = true;
  cp.embeddings = true;
  cp.pooling_type =
      im.opts.pooling == Pooling::kMean ? LLAMA_POOLING_TYPE_MEAN : LLAMA_POOLING_TYPE_LAST;
  const int threads = im.opts.n_threads > 0
                          ? im.opts.n_threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  std::deque<std::string> last_lines;
  {
    detail::LogCapture capture([&](const std::string& line) {
      last_lines.push_back(line);
      if (last_lines.size() > 4) last_lines.pop_front();
    });
    im.ctx = llama_init_from_model(im.model->impl().model, cp);
  }
  if (im.ctx == nullptr) {
    std::string why;
    for (const auto& l : last_lines) why += "\n  " + l;
    throw ModelError(fmt::format(
        "llama.cpp could not create an embedding context (n_batch {}, parallel {}); its last log "
        "lines:{}",
        n_batch, im.opts.n_parallel, why));
  }
  im.batch = llama_batch_init(static_cast<int32_t>(n_batch), 0, 1);
  im.batch_ready = true;
  im.batch.n_tokens = 0;
}

LlamaEmbedder::~LlamaEmbedder() = default;

std::vector<std::vector<float>> LlamaEmbedder::embed(const std::vector<std::string>& texts) {
  auto& im = *impl_;
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  llama_batch& b = im.batch;
  b.n_tokens = 0;
  int n_seqs = 0;
  for (const std::string& text : texts) {
    std::vector<int32_t> tokens = im.model->tokenize(im.opts.prefix + text, true);
    if (tokens.empty()) {
      throw DataError(fmt::format("text '{}' has no tokens (the model adds no BOS)", text));
    }
    if (tokens.size() > static_cast<std::size_t>(im.opts.max_tokens)) {
      tokens.resize(static_cast<std::size_t>(im.opts.max_tokens));
      ++im.truncated;
    }
    const auto n = static_cast<int32_t>(tokens.size());
    if (n_seqs == im.opts.n_parallel || b.n_tokens + n > im.opts.n_batch) {
      im.flush(n_seqs, out);
      n_seqs = 0;
    }
    for (int32_t i = 0; i < n; ++i) {
      const int32_t k = b.n_tokens++;
      b.token[k] = tokens[static_cast<std::size_t>(i)];
      b.pos[k] = i;
      b.n_seq_id[k] = 1;
      b.seq_id[k][0] = n_seqs;
      b.logits[k] = 1;  // llama.cpp outputs every token when pooling; say so explicitly
    }
    ++n_seqs;
  }
  im.flush(n_seqs, out);
  return out;
}

int LlamaEmbedder::n_embd() const { return impl_->n_embd; }
const Model& LlamaEmbedder::model() const { return *impl_->model; }
const EmbedderOptions& LlamaEmbedder::options() const { return impl_->opts; }
std::size_t LlamaEmbedder::truncated() const { return impl_->truncated; }

}  // namespace ksparse::llm
