// Continuous-batching generation over the parallel sequences of one llama.cpp context.
#include "ksparse/llm/llama_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "ksparse/core/error.h"
#include "ksparse/llm/chat_format.h"
#include "ksparse/llm/json_schema_grammar.h"
#include "llama_internal.h"

namespace ksparse::llm {
namespace {

using Clock = std::chrono::steady_clock;

// Four floats as a GCC/Clang vector (one SSE register, the x86-64 baseline): plain loops over
// logits do not vectorize here (the max and clamp selects and exp() need fast-math flags for
// that), and this path runs over n_vocab floats per generated token.
using Vec4 = float __attribute__((vector_size(16)));
using IVec4 = int32_t __attribute__((vector_size(16)));

Vec4 load4(const float* p) {
  Vec4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

Vec4 splat4(float x) { return Vec4{} + x; }

// exp(x) for x <= 0, lane-wise: Cody-Waite reduction x = n ln2 + r with |r| <= ln2/2, a degree-6
// Taylor polynomial for e^r (relative error below 3e-7 on that interval), and 2^n through the
// exponent bits. x is clamped at -87 (e^-87 < 2e-38), which also keeps 2^n a normal float.
Vec4 exp_nonpositive(Vec4 x) {
  const Vec4 lo = splat4(-87.0f);
  x = x < lo ? lo : x;
  // Round to nearest by adding and subtracting 1.5 * 2^23 (exact for |x log2 e| < 2^22).
  const Vec4 n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const Vec4 r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  Vec4 p = splat4(1.0f / 720.0f);
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const IVec4 bits = (__builtin_convertvector(n, IVec4) + 127) << 23;
  return p * std::bit_cast<Vec4>(bits);
}

// One row of logits reduced to what the decode loop needs: the greedy token (first maximum, as
// llama.cpp's greedy sampler picks it) and log(sum(exp(logits - max))) for log-probabilities.
// Two streaming passes over n_vocab floats; this replaces a scalar log-softmax in double whose
// exp() calls cost about 1.8 ms per token over Gemma 3's 262k vocabulary.
struct LogitStats {
  llama_token argmax = 0;
  float max = 0.0f;
  double log_sum_exp = 0.0;  // log sum_i exp(logit_i - max)

  double log_prob(const float* logits, llama_token token) const {
    return static_cast<double>(logits[token] - max) - log_sum_exp;
  }
};

LogitStats logit_stats(const float* logits, int n_vocab) {
  const int n_vec = n_vocab / 4 * 4;
  Vec4 vmax = splat4(logits[0]);
  for (int i = 0; i < n_vec; i += 4) {
    const Vec4 v = load4(logits + i);
    vmax = vmax < v ? v : vmax;
  }
  float max = logits[0];
  for (int j = 0; j < 4; ++j) max = std::max(max, vmax[j]);
  for (int i = n_vec; i < n_vocab; ++i) max = std::max(max, logits[i]);
  int arg = 0;
  while (arg + 1 < n_vocab && logits[arg] != max) ++arg;

  // Float partial sums over blocks of 1024 logits, added up in double.
  const Vec4 vm = splat4(max);
  double sum = 0.0;
  for (int block = 0; block < n_vec; block += 1024) {
    const int end = std::min(n_vec, block + 1024);
    Vec4 vsum{};
    for (int i = block; i < end; i += 4) vsum += exp_nonpositive(load4(logits + i) - vm);
    for (int j = 0; j < 4; ++j) sum += vsum[j];
  }
  for (int i = n_vec; i < n_vocab; ++i) sum += exp_nonpositive(splat4(logits[i] - max))[0];
  LogitStats s;
  s.argmax = arg;
  s.max = max;
  s.log_sum_exp = std::log(sum);
  return s;
}

// True when the chain is llama.cpp's greedy sampler alone: the token is then the argmax of the raw
// logits, and the 262k-entry candidate array that llama_sampler_sample builds can be skipped. Any
// other sampler in the chain (penalties, grammar, ...) goes through llama_sampler_sample.
bool is_plain_greedy(llama_sampler* chain) {
  return llama_sampler_chain_n(chain) == 1 &&
         std::strcmp(llama_sampler_name(llama_sampler_chain_get(chain, 0)), "greedy") == 0;
}

// Bytes at the end of `s` that start a UTF-8 sequence not yet complete (0 if it ends cleanly).
size_t incomplete_utf8_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t need = 1;
    if ((c & 0xE0) == 0xC0)
      need = 2;
    else if ((c & 0xF0) == 0xE0)
      need = 3;
    else if ((c & 0xF8) == 0xF0)
      need = 4;
    return need > back ? back : 0;
  }
  return 0;
}

struct SamplerDeleter {
  void operator()(llama_sampler* s) const {
    if (s != nullptr) llama_sampler_free(s);
  }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

// A grammar-constrained sampler that asks the grammar only when it must. Masking a 262k-entry
// vocabulary with llama.cpp's grammar costs ~0.3 s of CPU per token on this project's CI machine,
// while most sampled tokens are valid anyway. So: sample from a copy of the candidates without
// the grammar; keep that token if the grammar accepts it alone; otherwise mask all candidates with
// the grammar and sample again. Both ways the token comes from the grammar-masked distribution's
// support, and with greedy sampling it is exactly the masked argmax (the unmasked argmax, when
// valid, is also the masked one).
struct GrammarGate {
  llama_sampler* grammar = nullptr;
  llama_sampler* inner = nullptr;  // the unconstrained chain (penalties, top-k, ..., dist)
  std::vector<llama_token_data> scratch;
};

llama_sampler* make_grammar_gate(llama_sampler* grammar, llama_sampler* inner);

// Non-const only because llama_sampler_init takes a mutable pointer; never modified.
llama_sampler_i& grammar_gate_iface() {
  static llama_sampler_i iface = [] {
    llama_sampler_i i{};
    i.name = [](const llama_sampler*) { return "grammar-gate"; };
    i.accept = [](llama_sampler* s, llama_token token) {
      auto* g = static_cast<GrammarGate*>(s->ctx);
      llama_sampler_accept(g->grammar, token);
      llama_sampler_accept(g->inner, token);
    };
    i.apply = [](llama_sampler* s, llama_token_data_array* cur) {
      auto* g = static_cast<GrammarGate*>(s->ctx);
      g->scratch.assign(cur->data, cur->data + cur->size);
      llama_token_data_array copy{g->scratch.data(), g->scratch.size(), -1, cur->sorted};
      llama_sampler_apply(g->inner, &copy);
      if (copy.selected >= 0 && static_cast<size_t>(copy.selected) < copy.size) {
        llama_token_data one = copy.data[copy.selected];
        llama_token_data_array single{&one, 1, -1, false};
        llama_sampler_apply(g->grammar, &single);
        if (single.data[0].logit != -INFINITY) {
          cur->data[0] = copy.data[copy.selected];
          cur->size = 1;
          cur->selected = 0;
          cur->sorted = false;
          return;
        }
      }
      llama_sampler_apply(g->grammar, cur);
      llama_sampler_apply(g->inner, cur);
    };
    i.reset = [](llama_sampler* s) {
      auto* g = static_cast<GrammarGate*>(s->ctx);
      llama_sampler_reset(g->grammar);
      llama_sampler_reset(g->inner);
    };
    i.clone = [](const llama_sampler* s) {
      const auto* g = static_cast<const GrammarGate*>(s->ctx);
      return make_grammar_gate(llama_sampler_clone(g->grammar), llama_sampler_clone(g->inner));
    };
    i.free = [](llama_sampler* s) {
      auto* g = static_cast<GrammarGate*>(s->ctx);
      llama_sampler_free(g->grammar);
      llama_sampler_free(g->inner);
      delete g;
    };
    return i;
  }();
  return iface;
}

llama_sampler* make_grammar_gate(llama_sampler* grammar, llama_sampler* inner) {
  auto* g = new GrammarGate;
  g->grammar = grammar;
  g->inner = inner;
  return llama_sampler_init(&grammar_gate_iface(), g);
}

SamplerPtr make_chain(const SamplingOptions& o, uint32_t seed, int n_vocab);

// The request's sampler: its sampling chain, behind a grammar gate when it has a grammar (inside
// a one-element chain, so that it is a chain like every other request's sampler). mean_logprob is
// taken from the raw logits either way.
SamplerPtr make_sampler(const SamplingOptions& o, uint32_t seed, int n_vocab,
                        const llama_vocab* vocab = nullptr, const std::string& gbnf = {}) {
  SamplerPtr chain = make_chain(o, seed, n_vocab);
  if (gbnf.empty()) return chain;
  llama_sampler* grammar = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
  if (grammar == nullptr) throw ConfigError("grammar: llama.cpp's GBNF parser rejected it");
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr outer(llama_sampler_chain_init(cp));
  llama_sampler_chain_add(outer.get(), make_grammar_gate(grammar, chain.release()));
  return outer;
}

SamplerPtr make_chain(const SamplingOptions& o, uint32_t seed, int n_vocab) {
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr chain(llama_sampler_chain_init(cp));
  // Penalties see only generated tokens (the prompt is never fed to the sampler): for query
  // generation, reusing the document's words is wanted.
  if (o.penalty_last_n > 0 && (o.repeat_penalty != 1.0f || o.presence_penalty != 0.0f)) {
    llama_sampler_chain_add(
        chain.get(), llama_sampler_init_penalties(n_vocab, o.penalty_last_n, o.repeat_penalty, 0.0f,
                                                  o.presence_penalty));
  }
  if (o.temperature <= 0.0f) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
    return chain;
  }
  if (o.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(o.top_k));
  if (o.top_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(o.top_p, 1));
  if (o.min_p > 0.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_min_p(o.min_p, 1));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(o.temperature));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  return chain;
}

// Parses llama.cpp's "<buft> KV buffer size = 18.00 MiB" style lines.
void record_measured(const std::string& line, std::vector<LlamaBackend::Measured>& out) {
  static const std::regex re(R"((\S+)\s+(KV|compute|output) buffer size\s*=\s*([0-9.]+) MiB)");
  std::smatch m;
  if (!std::regex_search(line, m, re)) return;
  const std::string buft = m[1];
  const auto bytes = static_cast<uint64_t>(std::llround(std::stod(m[3]) * 1024.0 * 1024.0));
  auto it = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.buffer == buft; });
  if (it == out.end()) {
    out.push_back({buft, 0, 0});
    it = out.end() - 1;
  }
  if (m[2] == "KV") {
    it->kv_bytes += bytes;
  } else {
    it->compute_bytes += bytes;
  }
}

// What generate() feeds the model for one request: chat messages rendered with the family's
// format (special tokens parsed, and rendered in the output so the parser sees turn markers), the
// family's stop strings added, and the grammar (a JSON schema converted to GBNF).
struct PreparedRequest {
  bool chat = false;
  std::vector<llama_token> tokens;
  std::vector<std::string> stop;
  std::string gbnf;
};

std::vector<llama_token> tokenize_special(const llama_vocab* vocab, const std::string& text,
                                          bool add_bos) {
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                             static_cast<int32_t>(tokens.size()), add_bos, /*parse_special=*/true);
  if (n < 0) {
    tokens.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), add_bos, true);
  }
  if (n < 0) throw ModelError("llama_tokenize failed on a rendered chat prompt");
  tokens.resize(static_cast<size_t>(n));
  return tokens;
}

// For each prompt, the length of the prefix it shares with its group, 0 for none. Prompts are
// sorted; neighbours sharing at least `min_len` tokens form a group, and the group's prefix is what
// all its prompts share (the minimum over neighbours in sorted order), kept one token short of its
// shortest prompt because a prompt's last token must be decoded for its logits.
std::vector<size_t> shared_prefix_lengths(const std::vector<std::vector<llama_token>>& prompts,
                                          size_t min_len) {
  std::vector<size_t> order(prompts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return prompts[a] < prompts[b]; });
  auto common = [&](const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
    const auto end = a.begin() + static_cast<std::ptrdiff_t>(std::min(a.size(), b.size()));
    return static_cast<size_t>(std::mismatch(a.begin(), end, b.begin()).first - a.begin());
  };
  std::vector<size_t> out(prompts.size(), 0);
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    size_t shared = SIZE_MAX;
    size_t shortest = prompts[order[i]].size();
    while (j < order.size()) {
      const size_t l = common(prompts[order[j - 1]], prompts[order[j]]);
      if (l < min_len) break;
      shared = std::min(shared, l);
      shortest = std::min(shortest, prompts[order[j]].size());
      ++j;
    }
    if (j - i >= 2) {
      const size_t len = std::min(shared, shortest - 1);
      if (len >= min_len) {
        for (size_t k = i; k < j; ++k) out[order[k]] = len;
      }
    }
    i = j;
  }
  return out;
}

}  // namespace

struct LlamaBackend::Impl {
  LlamaBackendOptions opts;
  GgufLayout layout;
  MemoryPlan plan;
  std::unique_ptr<Model> model;
  llama_context* ctx = nullptr;
  std::vector<Measured> measured;
  uint32_t seq_limit = 0;  // positions one sequence may use
  ChatFamily family = ChatFamily::kAuto;  // resolved on first use (see chat_family())

  // Saved KV states of shared prompt prefixes (see the header), least recently used first out.
  struct SavedPrefix {
    std::vector<llama_token> tokens;
    std::vector<uint8_t> state;
    uint64_t last_use = 0;  // generate() call that last used it
  };
  std::vector<SavedPrefix> prefixes;
  uint64_t calls = 0;
  StepTimings timings;  // of the last generate() call

  size_t prefix_bytes() const {
    size_t n = 0;
    for (const auto& p : prefixes) n += p.state.size();
    return n;
  }

  // Decodes `tokens` alone in sequence 0 (every slot is free) and saves its KV state, unless
  // llama.cpp cannot or the cache budget is taken by prefixes of this call (the prefix is then
  // simply decoded with each prompt). Returns the tokens decoded: tokens.size(), or 0 when
  // decoding failed.
  size_t save_prefix(const std::vector<llama_token>& tokens) {
    llama_memory_t mem = llama_get_memory(ctx);
    llama_memory_seq_rm(mem, 0, -1, -1);
    const size_t n_batch = llama_n_batch(ctx);
    llama_batch batch = llama_batch_init(static_cast<int32_t>(n_batch), 0, 1);
    bool ok = true;
    for (size_t at = 0; at < tokens.size() && ok; at += n_batch) {
      const size_t take = std::min(n_batch, tokens.size() - at);
      batch.n_tokens = static_cast<int32_t>(take);
      for (size_t k = 0; k < take; ++k) {
        batch.token[k] = tokens[at + k];
        batch.pos[k] = static_cast<llama_pos>(at + k);
        batch.n_seq_id[k] = 1;
        batch.seq_id[k][0] = 0;
        batch.logits[k] = at + k + 1 == tokens.size() ? 1 : 0;
      }
      ok = llama_decode(ctx, batch) == 0;
    }
    llama_batch_free(batch);
    const size_t decoded = ok ? tokens.size() : 0;
    SavedPrefix saved;
    if (ok) {
      saved.state.resize(llama_state_seq_get_size(ctx, 0));
      ok = !saved.state.empty() &&
           llama_state_seq_get_data(ctx, saved.state.data(), saved.state.size(), 0) ==
               saved.state.size();
    }
    llama_memory_seq_rm(mem, 0, -1, -1);
    if (!ok) {
      spdlog::warn("llm: could not save a shared prompt prefix of {} tokens; decoding it per prompt",
                   tokens.size());
      return decoded;
    }
    // Make room: drop least recently used prefixes that this call does not use.
    const auto budget = static_cast<size_t>(opts.prefix_cache_mib * 1024.0 * 1024.0);
    while (prefix_bytes() + saved.state.size() > budget) {
      auto victim = prefixes.end();
      for (auto it = prefixes.begin(); it != prefixes.end(); ++it) {
        if (it->last_use < calls && (victim == prefixes.end() || it->last_use < victim->last_use)) {
          victim = it;
        }
      }
      if (victim == prefixes.end()) return decoded;  // everything saved is in use by this call
      prefixes.erase(victim);
    }
    spdlog::debug("llm: saved a shared prompt prefix of {} tokens ({})", tokens.size(),
                  format_bytes(saved.state.size()));
    saved.tokens = tokens;
    saved.last_use = calls;
    prefixes.push_back(std::move(saved));
    return decoded;
  }

  struct PrefixPlan {
    std::vector<const SavedPrefix*> use;  // per prompt: the saved prefix it starts from, or null
    uint64_t decoded_tokens = 0;          // prompt tokens decoded to save new prefixes
  };

  // Saves the prefixes the prompts of one generate() call share, then gives for each prompt the
  // longest saved prefix it starts with (and is longer than), or nullptr.
  PrefixPlan plan_prefixes(const std::vector<std::vector<llama_token>>& prompts) {
    ++calls;
    PrefixPlan plan;
    std::vector<const SavedPrefix*>& use = plan.use;
    use.assign(prompts.size(), nullptr);
    if (!opts.reuse_prefix || prompts.empty()) return plan;
    const auto min_len = static_cast<size_t>(std::max(1, opts.prefix_min_tokens));
    const std::vector<size_t> lens = shared_prefix_lengths(prompts, min_len);
    // Every prompt of a group has the same prefix: try each distinct one once, so that a prefix
    // that could not be saved is not decoded again for every member of its group.
    std::set<std::vector<llama_token>> tried;
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (lens[i] == 0) continue;
      std::vector<llama_token> prefix(prompts[i].begin(),
                                      prompts[i].begin() + static_cast<std::ptrdiff_t>(lens[i]));
      const bool known = std::any_of(prefixes.begin(), prefixes.end(),
                                     [&](const SavedPrefix& p) { return p.tokens == prefix; });
      if (!known && tried.insert(prefix).second) plan.decoded_tokens += save_prefix(prefix);
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
      SavedPrefix* best = nullptr;
      for (auto& p : prefixes) {
        if (p.tokens.size() < prompts[i].size() &&
            (best == nullptr || p.tokens.size() > best->tokens.size()) &&
            std::equal(p.tokens.begin(), p.tokens.end(), prompts[i].begin())) {
          best = &p;
        }
      }
      if (best != nullptr) {
        best->last_use = calls;
        use[i] = best;
      }
    }
    return plan;
  }

  ChatFamily chat_family() {
    if (family == ChatFamily::kAuto) {
      const ModelInfo& info = model->info();
      family = detect_chat_family(info.architecture, info.chat_template, opts.chat.family);
    }
    return family;
  }

  PreparedRequest prepare(const GenerationRequest& rq,
                          std::map<std::string, std::string>& schema_gbnf) {
    PreparedRequest p;
    p.stop = rq.stop;
    const bool constrained = !rq.grammar.empty() || !rq.json_schema.empty();
    if (!rq.json_schema.empty()) {
      auto it = schema_gbnf.find(rq.json_schema);
      if (it == schema_gbnf.end()) {
        it = schema_gbnf.emplace(rq.json_schema, json_schema_to_gbnf(rq.json_schema)).first;
      }
      p.gbnf = it->second;
    } else {
      p.gbnf = rq.grammar;
    }
    if (rq.messages.empty()) {
      const auto t = model->tokenize(rq.prompt, rq.add_bos);
      p.tokens.assign(t.begin(), t.end());
      return p;
    }
    p.chat = true;
    const ChatFamily f = chat_family();
    const std::string text =
        f == ChatFamily::kTemplate
            ? render_chat_template(model->info().chat_template, rq.messages)
            : render_chat(f, rq.messages, opts.chat, /*answer_only=*/constrained);
    p.tokens = tokenize_special(model->impl().vocab, text, rq.add_bos);
    for (auto& st : chat_stop_strings(f)) {
      if (std::find(p.stop.begin(), p.stop.end(), st) == p.stop.end()) p.stop.push_back(st);
    }
    return p;
  }

  ~Impl() {
    if (ctx != nullptr) llama_free(ctx);
  }
};

LlamaBackend::LlamaBackend(LlamaBackendOptions options) : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.opts = std::move(options);
  im.opts.model.validate();
  im.opts.context.validate();
  if (im.opts.model.vocab_only) {
    throw ConfigError("model: vocab_only models cannot generate text; load the weights");
  }
  init_llama_backend();
  const ContextOptions& c = im.opts.context;
  im.layout = read_gguf_layout(im.opts.model.path);
  im.plan = plan_memory(im.layout, c, im.opts.model.n_gpu_layers, im.opts.model.main_gpu,
                        list_gpu_devices(), im.opts.budget);
  spdlog::debug("llm: memory plan: {} GPU layers ({}), total {}", im.plan.n_gpu_layers,
                im.plan.note, format_bytes(im.plan.total()));

  ModelOptions mo = im.opts.model;
  mo.n_gpu_layers = im.plan.n_gpu_layers;
  mo.batch_invariant = c.batch_invariant;
  if (c.batch_invariant) {
    if (im.plan.n_gpu_layers > 0) {
      spdlog::warn(
          "llm: batch_invariant covers the CPU kernels only; the {} layers on the GPU use "
          "llama.cpp's GPU kernels, whose sums may depend on the batch",
          im.plan.n_gpu_layers);
    }
  }
  im.model = std::make_unique<Model>(mo);

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = im.plan.n_ctx;
  // Every generating sequence contributes one token per call, so a batch holds at least n_parallel.
  cp.n_batch =
      std::max<uint32_t>(std::min<uint32_t>(static_cast<uint32_t>(c.n_batch), im.plan.n_ctx),
                         static_cast<uint32_t>(c.n_parallel));
  cp.n_ubatch = std::min<uint32_t>(static_cast<uint32_t>(c.n_ubatch), cp.n_batch);
  cp.n_seq_max = static_cast<uint32_t>(c.n_parallel);
  // At most one logits row per sequence per decode call: sizing the output buffer (and the
  // reserved graph) for that instead of n_batch rows saves n_vocab * 4 bytes per row.
  cp.n_outputs_max = static_cast<uint32_t>(c.n_parallel);
  const int threads = c.n_threads > 0
                          ? c.n_threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.type_k = detail::to_ggml_type(c.kv_type);
  cp.type_v = detail::to_ggml_type(c.kv_type);
  // Resolved by the plan (see FlashAttn): off, on, or llama.cpp's choice.
  if (!im.plan.flash_attn) {
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  } else if (c.flash_attn == FlashAttn::kOn || c.kv_type == KvType::kQ8_0) {
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  } else {
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
  }
  cp.kv_unified = c.kv_unified;
  cp.swa_full = c.swa_full;
  cp.no_perf = true;
  std::deque<std::string> last_lines;
  {
    detail::LogCapture capture([&](const std::string& line) {
      record_measured(line, im.measured);
      last_lines.push_back(line);
      if (last_lines.size() > 4) last_lines.pop_front();
    });
    im.ctx = llama_init_from_model(im.model->impl().model, cp);
  }
  if (im.ctx == nullptr) {
    std::string why;
    for (const auto& l : last_lines) why += "\n  " + l;
    throw ModelError(fmt::format(
        "llama.cpp could not create a context (n_ctx {}, parallel {}, kv {}); its last log "
        "lines:{}",
        im.plan.n_ctx, c.n_parallel, kv_type_name(c.kv_type), why));
  }
  const uint32_t n_ctx_seq = llama_n_ctx_seq(im.ctx);
  // A unified cache is shared: cap each sequence at its fair share so that all fit at once.
  im.seq_limit =
      c.kv_unified ? llama_n_ctx(im.ctx) / static_cast<uint32_t>(c.n_parallel) : n_ctx_seq;
}

LlamaBackend::~LlamaBackend() = default;

const Model& LlamaBackend::model() const { return *impl_->model; }
const MemoryPlan& LlamaBackend::plan() const { return impl_->plan; }
const LlamaBackend::StepTimings& LlamaBackend::last_timings() const { return impl_->timings; }
const std::vector<LlamaBackend::Measured>& LlamaBackend::measured() const {
  return impl_->measured;
}
uint32_t LlamaBackend::n_ctx_seq() const { return impl_->seq_limit; }
ChatFamily LlamaBackend::chat_family() const { return impl_->chat_family(); }

std::vector<GenerationResult> LlamaBackend::generate(
    const std::vector<GenerationRequest>& requests) {
  auto& im = *impl_;
  for (size_t i = 0; i < requests.size(); ++i) {
    try {
      requests[i].validate();
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("request {}: {}", i, e.what()));
    }
  }
  std::vector<GenerationResult> results(requests.size());
  if (requests.empty()) return results;

  const llama_vocab* vocab = im.model->impl().vocab;
  const int n_vocab = llama_vocab_n_tokens(vocab);
  std::vector<std::vector<llama_token>> prompts(requests.size());
  std::vector<PreparedRequest> prep(requests.size());
  std::map<std::string, std::string> schema_gbnf;  // JSON schema -> GBNF, converted once each
  for (size_t i = 0; i < requests.size(); ++i) {
    try {
      prep[i] = im.prepare(requests[i], schema_gbnf);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("request {}: {}", i, e.what()));
    }
    prompts[i] = std::move(prep[i].tokens);
    if (prompts[i].empty()) {
      throw ConfigError(fmt::format("request {}: prompt is empty (no tokens)", i));
    }
    if (prompts[i].size() + 1 > im.seq_limit) {
      throw DataError(fmt::format(
          "request {}: prompt has {} tokens but one sequence holds {} (prompt + generated); raise "
          "--ctx or lower --parallel",
          i, prompts[i].size(), im.seq_limit));
    }
    results[i].prompt_tokens = static_cast<int>(prompts[i].size());
  }

  struct Slot {
    int req = -1;          // -1: free
    size_t fed = 0;        // prompt tokens already decoded
    llama_pos pos = 0;     // position of the next token
    llama_token next = 0;  // sampled, not yet decoded
    int out_idx = -1;      // logits row in the current batch
    size_t n_prompt_in_batch = 0;
    SamplerPtr sampler;
    bool greedy = false;  // the chain is greedy alone: take the argmax without the sampler
    double logprob_sum = 0.0;
    size_t max_stop = 0;
  };
  const int n_par = im.opts.context.n_parallel;
  std::vector<Slot> slots(static_cast<size_t>(n_par));
  llama_memory_t mem = llama_get_memory(im.ctx);
  llama_memory_clear(mem, true);
  const Impl::PrefixPlan prefix_plan = im.plan_prefixes(prompts);
  const std::vector<const Impl::SavedPrefix*>& prefix_of = prefix_plan.use;

  const int n_batch = static_cast<int>(llama_n_batch(im.ctx));
  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  struct BatchGuard {
    llama_batch& b;
    ~BatchGuard() { llama_batch_free(b); }
  } guard{batch};

  GenerationProgress progress;
  progress.total = requests.size();
  progress.prompt_tokens = prefix_plan.decoded_tokens;
  const auto t0 = Clock::now();
  auto last_report = t0;
  auto report = [&](bool force) {
    if (!im.opts.on_progress) return;
    const auto now = Clock::now();
    if (!force &&
        std::chrono::duration<double>(now - last_report).count() < im.opts.progress_every_s) {
      return;
    }
    last_report = now;
    progress.elapsed_s = std::chrono::duration<double>(now - t0).count();
    im.opts.on_progress(progress);
  };

  size_t next_req = 0;
  auto finish = [&](Slot& s, FinishReason why) {
    GenerationResult& r = results[static_cast<size_t>(s.req)];
    r.finish = why;
    if (why != FinishReason::kStop) r.text.resize(r.text.size() - incomplete_utf8_tail(r.text));
    r.mean_logprob = r.generated_tokens > 0 ? s.logprob_sum / r.generated_tokens : 0.0;
    if (prep[static_cast<size_t>(s.req)].chat) {
      ChatOutput out = parse_chat_output(im.family, r.text);
      r.text = std::move(out.text);
      r.reasoning = std::move(out.reasoning);
    }
    s.req = -1;
    s.sampler.reset();
    ++progress.done;
  };

  int prompt_budget_cap = n_batch;  // lowered when llama.cpp finds no KV slot for a batch
  im.timings = {};
  while (progress.done < requests.size()) {
    // Admit waiting requests into free slots.
    for (int si = 0; si < n_par && next_req < requests.size(); ++si) {
      Slot& s = slots[static_cast<size_t>(si)];
      if (s.req >= 0) continue;
      llama_memory_seq_rm(mem, si, -1, -1);
      const auto& rq = requests[next_req];
      s.req = static_cast<int>(next_req);
      s.fed = 0;
      s.pos = 0;
      s.logprob_sum = 0.0;
      s.max_stop = 0;
      if (const Impl::SavedPrefix* pre = prefix_of[next_req]; pre != nullptr) {
        if (llama_state_seq_set_data(im.ctx, pre->state.data(), pre->state.size(), si) ==
            pre->state.size()) {
          s.fed = pre->tokens.size();
          s.pos = static_cast<llama_pos>(s.fed);
          progress.reused_prompt_tokens += s.fed;
        } else {
          llama_memory_seq_rm(mem, si, -1, -1);  // decode the whole prompt instead
        }
      }
      for (const auto& st : prep[next_req].stop) s.max_stop = std::max(s.max_stop, st.size());
      const uint32_t seed = rq.sampling.seed == kSeedFromIndex
                                ? im.opts.base_seed + static_cast<uint32_t>(next_req)
                                : rq.sampling.seed;
      s.sampler = make_sampler(rq.sampling, seed, n_vocab, vocab, prep[next_req].gbnf);
      s.greedy = is_plain_greedy(s.sampler.get());
      ++next_req;
    }

    // One batch: the pending token of every generating slot, then prompt tokens.
    batch.n_tokens = 0;
    auto add = [&](llama_token tok, llama_pos pos, int seq, bool logits) {
      const int i = batch.n_tokens++;
      batch.token[i] = tok;
      batch.pos[i] = pos;
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = seq;
      batch.logits[i] = logits ? 1 : 0;
      return i;
    };
    for (int si = 0; si < n_par; ++si) {
      Slot& s = slots[static_cast<size_t>(si)];
      s.out_idx = -1;
      s.n_prompt_in_batch = 0;
      if (s.req >= 0 && s.fed == prompts[static_cast<size_t>(s.req)].size()) {
        s.out_idx = add(s.next, s.pos, si, true);
      }
    }
    const int n_gen_tokens = batch.n_tokens;
    int room = std::min(n_batch, n_gen_tokens + prompt_budget_cap) - batch.n_tokens;
    uint64_t prompt_tokens_now = 0;
    for (int si = 0; si < n_par && room > 0; ++si) {
      Slot& s = slots[static_cast<size_t>(si)];
      if (s.req < 0) continue;
      const auto& p = prompts[static_cast<size_t>(s.req)];
      if (s.fed == p.size() || s.out_idx >= 0) continue;
      const size_t take = std::min(p.size() - s.fed, static_cast<size_t>(room));
      for (size_t k = 0; k < take; ++k) {
        const bool last = s.fed + k + 1 == p.size();
        const int idx = add(p[s.fed + k], static_cast<llama_pos>(s.fed + k), si, last);
        if (last) s.out_idx = idx;
      }
      s.n_prompt_in_batch = take;
      room -= static_cast<int>(take);
      prompt_tokens_now += take;
    }
    if (batch.n_tokens == 0) break;  // cannot happen while requests are unfinished

    const auto step_t0 = Clock::now();
    const int32_t rc = llama_decode(im.ctx, batch);
    if (rc == 1 && batch.n_tokens > n_gen_tokens && prompt_budget_cap > 1) {
      // No KV slot for this many tokens: retry with fewer prompt tokens (state was restored).
      prompt_budget_cap = std::max(1, prompt_budget_cap / 2);
      for (auto& s : slots) s.out_idx = -1;
      continue;
    }
    if (rc != 0) {
      throw ModelError(
          fmt::format("llama_decode failed (code {}) on a batch of {} tokens over {} sequences; {}",
                      rc, batch.n_tokens, n_par,
                      rc == 1 ? "the KV cache is full: raise --ctx or lower --parallel"
                              : "see --log-level debug"));
    }
    // Account the prompt tokens that were decoded.
    for (auto& s : slots) {
      if (s.req < 0 || s.n_prompt_in_batch == 0) continue;
      s.fed += s.n_prompt_in_batch;
      s.pos = static_cast<llama_pos>(s.fed);
    }
    progress.prompt_tokens += prompt_tokens_now;

    // Argmax and log-sum-exp of every output row (two passes over n_vocab floats each, ~0.85 ms
    // per row over Gemma 3's 262k vocabulary): split over the decode threads, as the CPU is idle
    // between decode calls. The rows are read-only until the next llama_decode.
    std::vector<const float*> row_logits(static_cast<size_t>(n_par), nullptr);
    std::vector<LogitStats> row_stats(static_cast<size_t>(n_par));
    std::vector<int> out_slots;
    for (int si = 0; si < n_par; ++si) {
      const Slot& s = slots[static_cast<size_t>(si)];
      if (s.req < 0 || s.out_idx < 0) continue;
      row_logits[static_cast<size_t>(si)] = llama_get_logits_ith(im.ctx, s.out_idx);
      out_slots.push_back(si);
    }
    {
      const size_t n_workers =
          std::min(out_slots.size(), static_cast<size_t>(std::max(1, llama_n_threads(im.ctx))));
      auto work = [&](size_t w) {
        for (size_t k = w; k < out_slots.size(); k += n_workers) {
          const auto si = static_cast<size_t>(out_slots[k]);
          row_stats[si] = logit_stats(row_logits[si], n_vocab);
        }
      };
      std::vector<std::thread> helpers;
      for (size_t w = 1; w < n_workers; ++w) helpers.emplace_back(work, w);
      if (n_workers > 0) work(0);
      for (auto& h : helpers) h.join();
    }

    bool finished_any = false;
    for (int si = 0; si < n_par; ++si) {
      Slot& s = slots[static_cast<size_t>(si)];
      if (s.req < 0 || s.out_idx < 0) continue;
      const auto& rq = requests[static_cast<size_t>(s.req)];
      GenerationResult& r = results[static_cast<size_t>(s.req)];
      if (s.fed == prompts[static_cast<size_t>(s.req)].size() && r.generated_tokens > 0) {
        s.pos += 1;  // the pending token just went into the cache
      }
      const float* logits = row_logits[static_cast<size_t>(si)];
      const LogitStats& stats = row_stats[static_cast<size_t>(si)];
      llama_token tok = stats.argmax;
      if (s.greedy) {
        llama_sampler_accept(s.sampler.get(), tok);
      } else {
        tok = llama_sampler_sample(s.sampler.get(), im.ctx, s.out_idx);
      }
      s.logprob_sum += stats.log_prob(logits, tok);
      r.generated_tokens += 1;
      r.tokens.push_back(tok);
      ++progress.generated_tokens;
      if (!rq.ignore_eos && llama_vocab_is_eog(vocab, tok)) {
        finish(s, FinishReason::kEos);
        finished_any = true;
        continue;
      }
      const size_t old_len = r.text.size();
      r.text += im.model->token_to_piece(tok, prep[static_cast<size_t>(s.req)].chat);
      if (s.max_stop > 0) {
        const size_t from = old_len >= s.max_stop ? old_len - s.max_stop + 1 : 0;
        size_t cut = std::string::npos;
        for (const auto& st : prep[static_cast<size_t>(s.req)].stop) {
          cut = std::min(cut, r.text.find(st, from));
        }
        if (cut != std::string::npos) {
          r.text.resize(cut);
          finish(s, FinishReason::kStop);
          finished_any = true;
          continue;
        }
      }
      if (r.generated_tokens >= rq.max_tokens || static_cast<uint32_t>(s.pos) + 1 > im.seq_limit) {
        finish(s, FinishReason::kLength);
        finished_any = true;
        continue;
      }
      s.next = tok;
    }
    const double step_s = std::chrono::duration<double>(Clock::now() - step_t0).count();
    if (prompt_tokens_now > 0) {
      im.timings.prompt_seconds += step_s;
      im.timings.prompt_steps += 1;
      im.timings.prompt_tokens += prompt_tokens_now;
    } else {
      im.timings.generation_seconds += step_s;
      im.timings.generation_steps += 1;
      im.timings.generation_tokens += static_cast<uint64_t>(batch.n_tokens);
    }
    report(finished_any);
  }
  report(true);
  return results;
}

}  // namespace ksparse::llm
