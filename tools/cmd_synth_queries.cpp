// `ksparse synth queries`: document -> synthetic queries with the in-process llama.cpp backend,
// through the resumable generation cache and the filter funnel. Built only with KSPARSE_WITH_LLAMA.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/io.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/synth/generate.h"
#include "ksparse/synth/merge.h"

namespace ksparse::cli {
namespace {
namespace fs = std::filesystem;

struct SynthQueriesCommandOptions {
  fs::path model;   // GGUF
  fs::path corpus;  // BEIR corpus.jsonl
  fs::path out;     // triples.jsonl, funnel.json, rejections.jsonl, manifest.json
  std::vector<fs::path> templates = {
      "configs/prompts/ko_keyword.toml", "configs/prompts/ko_question.toml",
      "configs/prompts/en_keyword.toml", "configs/prompts/ko_en_mixed.toml"};
  fs::path real;   // real triples.jsonl for few-shot examples ("" = template examples)
  // ... or real BEIR queries + qrels (e.g. only the train split's qrels, so that no test question
  // ever appears in a prompt).
  fs::path real_queries;
  fs::path real_qrels;
  fs::path real_corpus;  // corpus of the real examples' passages ("" = --corpus)
  // Templates whose style is in this list draw few-shot examples from the real pool; the others
  // keep their own examples (real questions are no model for keyword or English queries).
  std::vector<std::string> real_styles = {"question"};
  fs::path cache;  // "" = <out>/cache.sqlite
  synth::QueryGenerationOptions gen;
  synth::FilterOptions filters;
  synth::PromptBuilderOptions prompt;
  int parallel = 8;  // sequences decoded together
  int ctx_per_seq = 2048;
  int threads = 0;
  int gpu_layers = 0;
  bool json = false;
};

void run_synth_queries(SynthQueriesCommandOptions opt) {
  opt.gen.batch_size = std::max<std::size_t>(opt.gen.batch_size, 1);
  opt.filters.validate();
  std::vector<Document> docs = read_corpus(opt.corpus);
  std::unordered_map<std::string, const Document*> by_id;
  for (const Document& d : docs) by_id.emplace(d.id, &d);

  std::vector<synth::Triple> real;
  std::string real_source;
  if (!opt.real.empty()) {
    if (!opt.real_queries.empty() || !opt.real_qrels.empty()) {
      throw ConfigError("give either --real or --real-queries with --real-qrels, not both");
    }
    real = synth::read_triples(opt.real);
    real_source = opt.real.string();
  } else if (!opt.real_queries.empty() || !opt.real_qrels.empty()) {
    if (opt.real_queries.empty() || opt.real_qrels.empty()) {
      throw ConfigError("--real-queries and --real-qrels go together");
    }
    real = synth::triples_from_beir(read_queries(opt.real_queries), read_qrels(opt.real_qrels));
    real_source = opt.real_queries.string() + " + " + opt.real_qrels.string();
  }
  std::vector<synth::FewShotExample> pool;
  if (!real.empty()) {
    std::vector<Document> real_docs;
    if (!opt.real_corpus.empty()) real_docs = read_corpus(opt.real_corpus);
    std::unordered_map<std::string, const Document*> real_by_id;
    for (const Document& d : real_docs) real_by_id.emplace(d.id, &d);
    const auto& lookup = opt.real_corpus.empty() ? by_id : real_by_id;
    pool = synth::few_shot_pool(real, [&](const std::string& id) {
      auto it = lookup.find(id);
      return it == lookup.end() ? nullptr : it->second;
    });
    spdlog::info("{} real few-shot examples from {}", pool.size(), real_source);
  }
  opt.prompt.seed = opt.gen.seed;
  std::vector<synth::PromptBuilder> builders;
  for (const fs::path& t : opt.templates) {
    synth::PromptTemplate tmpl = synth::load_prompt_template(t);
    const bool use_real = std::find(opt.real_styles.begin(), opt.real_styles.end(), tmpl.style) !=
                          opt.real_styles.end();
    builders.emplace_back(std::move(tmpl), use_real ? pool : std::vector<synth::FewShotExample>{},
                          opt.prompt);
  }

  // The model's identity in the cache key: its file name and content hash.
  const std::string model_hash = sha256_file(opt.model);
  opt.gen.model = opt.model.filename().string() + " sha256:" + model_hash;

  std::unique_ptr<synth::Bm25Retriever> retriever;
  if (opt.filters.round_trip_enabled) retriever = synth::Bm25Retriever::from_corpus(opt.corpus);
  synth::Funnel funnel = synth::make_default_funnel(opt.filters, retriever.get());

  llm::LlamaBackendOptions lo;
  lo.model.path = opt.model;
  lo.model.n_gpu_layers = opt.gpu_layers;
  lo.context.n_parallel = opt.parallel;
  lo.context.n_ctx = opt.ctx_per_seq * opt.parallel;
  lo.context.n_threads = opt.threads;
  lo.base_seed = static_cast<uint32_t>(opt.gen.seed);
  llm::LlamaBackend backend(lo);

  const fs::path cache_path = opt.cache.empty() ? opt.out / "cache.sqlite" : opt.cache;
  synth::GenerationCache cache(cache_path);
  const synth::SynthesisResult result =
      synth::synthesize_queries(docs, builders, backend, cache, funnel, opt.gen);

  nlohmann::json templates = nlohmann::json::array();
  for (const auto& b : builders) {
    templates.push_back({{"name", b.prompt_template().name},
                         {"path", b.prompt_template().path.string()},
                         {"sha256", b.prompt_template().hash}});
  }
  const nlohmann::json config = {{"model", opt.gen.model},
                                 {"corpus", fs::absolute(opt.corpus).string()},
                                 {"templates", templates},
                                 {"few_shot_real", real_source},
                                 {"few_shot_real_corpus", opt.real_corpus.string()},
                                 {"few_shot_real_styles", opt.real_styles},
                                 {"few_shot_pool", pool.size()},
                                 {"max_doc_chars", opt.prompt.max_doc_chars},
                                 {"max_example_chars", opt.prompt.max_example_chars},
                                 {"example_sets", opt.prompt.example_sets},
                                 {"per_doc", opt.gen.per_doc},
                                 {"limit", opt.gen.limit},
                                 {"seed", opt.gen.seed},
                                 {"batch_size", opt.gen.batch_size},
                                 {"parallel", opt.parallel},
                                 {"sampling",
                                  {{"temperature", opt.gen.sampling.temperature},
                                   {"top_k", opt.gen.sampling.top_k},
                                   {"top_p", opt.gen.sampling.top_p},
                                   {"min_p", opt.gen.sampling.min_p}}},
                                 {"filters", opt.filters.to_json()},
                                 {"cache", fs::absolute(cache_path).string()}};
  synth::write_synthesis(opt.out, result, config);
  const auto& st = result.stats;
  spdlog::info(
      "{} requests ({} cached, {} generated in {:.1f} s, {:.1f} generated tokens/s); "
      "{} of {} candidates passed every filter -> {}",
      st.requests, st.cached, st.generated, st.generate_seconds,
      st.generate_seconds > 0 ? st.generated_tokens / st.generate_seconds : 0.0,
      result.funnel.kept.size(), result.funnel.input, (opt.out / "triples.jsonl").string());
  if (opt.json) std::printf("%s\n", result.funnel.to_json().dump().c_str());
}

}  // namespace

void add_synth_queries_command(CLI::App& app) {
  CLI::App* synth = app.get_subcommand("synth");
  auto opt = std::make_shared<SynthQueriesCommandOptions>();
  auto* cmd = synth->add_subcommand(
      "queries", "Generate synthetic queries for a corpus with a local LLM, filter, write triples");
  cmd->add_option("--model", opt->model, "GGUF model")->required()->check(CLI::ExistingFile);
  cmd->add_option("--corpus", opt->corpus, "BEIR corpus.jsonl")->required();
  cmd->add_option("--out", opt->out, "Output directory")->required();
  cmd->add_option("--templates", opt->templates,
                  "Prompt template files (a document's generations cycle through them)")
      ->capture_default_str();
  cmd->add_option("--real", opt->real, "Real triples.jsonl: few-shot examples are drawn from it");
  cmd->add_option("--real-queries", opt->real_queries,
                  "Real BEIR queries.jsonl for few-shot examples (with --real-qrels)");
  cmd->add_option("--real-qrels", opt->real_qrels,
                  "Real qrels TSV: only its (query, passage) pairs become examples (e.g. the train "
                  "split)");
  cmd->add_option("--real-corpus", opt->real_corpus,
                  "Corpus of the real examples' passages (default: --corpus)");
  cmd->add_option("--real-styles", opt->real_styles,
                  "Template styles that draw few-shot examples from the real pool")
      ->capture_default_str();
  cmd->add_option("--max-doc-chars", opt->prompt.max_doc_chars,
                  "Document truncated to this many characters in the prompt (0 = all)")
      ->capture_default_str();
  cmd->add_option("--max-example-chars", opt->prompt.max_example_chars,
                  "Each few-shot passage truncated to this many characters")
      ->capture_default_str();
  cmd->add_option("--example-sets", opt->prompt.example_sets,
                  "Fixed sets of real few-shot examples, one per prompt (shared prompt prefixes "
                  "are decoded once); 0 = a fresh draw for every prompt")
      ->capture_default_str();
  cmd->add_option("--cache", opt->cache, "Generation cache (default <out>/cache.sqlite)");
  cmd->add_option("--per-doc", opt->gen.per_doc, "Generations per document")->capture_default_str();
  cmd->add_option("--limit", opt->gen.limit, "First N documents (0 = all)")->capture_default_str();
  cmd->add_option("--seed", opt->gen.seed, "Seed (sampling and few-shot draws)")
      ->capture_default_str();
  cmd->add_option("--batch", opt->gen.batch_size,
                  "Requests per generate() call and per cache transaction")
      ->capture_default_str();
  cmd->add_option("--parallel", opt->parallel, "Sequences decoded together")->capture_default_str();
  cmd->add_option("--ctx-per-seq", opt->ctx_per_seq, "KV cells per sequence")
      ->capture_default_str();
  cmd->add_option("--threads", opt->threads, "CPU threads (0 = all)")->capture_default_str();
  cmd->add_option("--gpu-layers", opt->gpu_layers, "Layers on the GPU (-1 = plan automatically)")
      ->capture_default_str();
  cmd->add_option("--temperature", opt->gen.sampling.temperature, "Sampling temperature")
      ->capture_default_str();
  cmd->add_option("--top-p", opt->gen.sampling.top_p, "Nucleus sampling (1 = off)")
      ->capture_default_str();
  cmd->add_option("--min-logprob", opt->filters.logprob.min_mean_logprob,
                  "Reject generations whose mean token log-probability is below this")
      ->capture_default_str();
  cmd->add_option("--round-trip-k", opt->filters.round_trip.k,
                  "Round trip: the source document must be in BM25's top-k")
      ->capture_default_str();
  cmd->add_flag("!--no-round-trip", opt->filters.round_trip_enabled,
                "Skip the round-trip consistency filter");
  cmd->add_flag("--json", opt->json, "Print the funnel as JSON");
  cmd->callback([opt] { run_synth_queries(*opt); });
}

}  // namespace ksparse::cli
