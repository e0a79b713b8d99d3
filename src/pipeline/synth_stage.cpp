// Stage `synth`: synthetic queries for train-article passages with the shared LLM, through the
// resumable generation cache (work dir) and the filter funnel; or, with `import`, the triples of a
// `ksparse synth queries` output directory made elsewhere (another run, another machine).
#include <spdlog/spdlog.h>

#include <unordered_map>
#include <unordered_set>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synth/generate.h"
#include "ksparse/synth/retriever.h"
#include "ksparse/synth/triples.h"
#include "llm_resource.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct SynthSettings {
  synth::QueryGenerationOptions gen;
  synth::FilterOptions filters;
  synth::PromptBuilderOptions prompt;
  std::vector<fs::path> templates;
  bool few_shot_real = true;
  fs::path import_dir;  // "" = generate here
};

SynthSettings synth_settings(const ConfigTable& t, const ConfigTable& root) {
  t.expect_keys({"enabled", "per_doc", "limit", "batch_size", "seed", "temperature", "top_p",
                 "top_k", "min_p", "templates", "few_shot_real", "max_doc_chars",
                 "max_example_chars", "example_sets", "min_logprob", "round_trip", "round_trip_k",
                 "min_query_tokens", "import"});
  SynthSettings s;
  if (t.contains("import")) {
    const fs::path dir = resolve_input_file(t, root, "import");
    for (const char* f : {"triples.jsonl", "manifest.json"}) {
      if (!fs::exists(dir / f)) {
        throw ConfigError(t.where("import") + ": `synth.import` must be a `ksparse synth queries` " +
                          "output directory; " + (dir / f).string() + " is missing");
      }
    }
    s.import_dir = fs::absolute(dir).lexically_normal();
    return s;  // nothing is generated: templates and sampling settings do not apply
  }
  s.gen.per_doc = t.get<std::size_t>("per_doc", s.gen.per_doc);
  s.gen.limit = t.get<std::size_t>("limit", s.gen.limit);
  s.gen.batch_size = t.get<std::size_t>("batch_size", s.gen.batch_size);
  s.gen.seed = t.get<std::uint64_t>("seed", 13);
  s.gen.sampling.temperature = t.get("temperature", s.gen.sampling.temperature);
  s.gen.sampling.top_p = t.get("top_p", s.gen.sampling.top_p);
  s.gen.sampling.top_k = t.get("top_k", s.gen.sampling.top_k);
  s.gen.sampling.min_p = t.get("min_p", s.gen.sampling.min_p);
  s.gen.show_progress = false;
  s.few_shot_real = t.get("few_shot_real", s.few_shot_real);
  s.prompt.max_doc_chars = t.get<std::size_t>("max_doc_chars", s.prompt.max_doc_chars);
  s.prompt.max_example_chars = t.get<std::size_t>("max_example_chars", s.prompt.max_example_chars);
  s.prompt.example_sets = t.get<std::size_t>("example_sets", s.prompt.example_sets);
  s.prompt.seed = s.gen.seed;
  s.filters.logprob.min_mean_logprob = t.get("min_logprob", s.filters.logprob.min_mean_logprob);
  s.filters.round_trip_enabled = t.get("round_trip", s.filters.round_trip_enabled);
  s.filters.round_trip.k = t.get<std::size_t>("round_trip_k", s.filters.round_trip.k);
  s.filters.length.min_tokens = t.get<std::size_t>("min_query_tokens", s.filters.length.min_tokens);
  const std::vector<std::string> names = t.get<std::vector<std::string>>(
      "templates", {"ko_keyword", "ko_question", "en_keyword", "ko_en_mixed"});
  for (const std::string& n : names) {
    // A bare name is one of the shipped templates (configs/prompts/<name>.toml next to the
    // config's directory); anything else is a path relative to the config file.
    fs::path p = n;
    if (p.extension() != ".toml") {
      p = t.source().empty() ? fs::path("configs/prompts") / (n + ".toml")
                             : t.source().parent_path() / "prompts" / (n + ".toml");
    } else if (p.is_relative() && !t.source().empty()) {
      p = t.source().parent_path() / p;
    }
    if (!fs::exists(p)) {
      throw ConfigError(t.where("templates") + ": `synth.templates`: no template file " +
                        p.string());
    }
    s.templates.push_back(fs::absolute(p).lexically_normal());
  }
  if (s.templates.empty()) {
    throw ConfigError(t.where("templates") + ": `synth.templates` is empty");
  }
  try {
    s.gen.model = "(set at run time)";
    s.gen.validate();
    s.filters.validate();
    s.gen.sampling.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(t.where() + ": [synth]: " + e.what());
  }
  (void)root;
  return s;
}

// `import`: the synthetic triples of another run whose positive is a KorQuAD passage (others are
// dropped and counted), with that run's funnel and generation statistics.
void import_synthesis(StageContext& ctx, const fs::path& dir, const fs::path& data) {
  std::unordered_set<std::string> ids;
  for (const Document& d : read_corpus(data / "korquad" / "corpus.jsonl")) ids.insert(d.id);
  std::vector<synth::Triple> kept;
  std::size_t outside = 0, real = 0;
  for (synth::Triple& t : synth::read_triples(dir / "triples.jsonl")) {
    if (t.source != synth::TripleSource::kSynthetic) {
      ++real;
    } else if (ids.count(t.positive_id) == 0) {
      ++outside;
    } else {
      kept.push_back(std::move(t));
    }
  }
  if (real > 0) {
    throw DataError((dir / "triples.jsonl").string() + ": " + std::to_string(real) +
                    " triples are not synthetic; `synth.import` takes synthetic triples only");
  }
  fs::create_directories(ctx.out_dir() / "queries");
  synth::write_triples(ctx.out_dir() / "queries" / "triples.jsonl", kept);
  std::unordered_set<std::string> docs;
  for (const synth::Triple& t : kept) docs.insert(t.positive_id);
  const json m = detail::read_json(dir / "manifest.json");
  const json& ms = m.at("stats");
  ctx.stats = {{"imported_from", dir.string()},
               {"funnel", ms.at("funnel")},
               {"generation", ms.at("generation")},
               {"model", m.at("config").value("model", "")},
               {"documents", docs.size()},
               {"candidates", ms.at("funnel").at("input")},
               {"triples", kept.size()},
               {"dropped_outside_corpus", outside},
               {"generated_tok_s", ms.at("generation").value("generated_tokens_per_s", 0.0)}};
  spdlog::info("synth: imported {} triples over {} passages from {} ({} outside the corpus)",
               kept.size(), docs.size(), dir.string(), outside);
}

}  // namespace

StageSpec synth_stage() {
  StageSpec s;
  s.name = "synth";
  s.description = "synthetic queries (LLM) for train-article passages + filter funnel";
  s.deps = {"data"};
  s.resources = {"llm"};
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    const SynthSettings st = synth_settings(t, root);
    StagePlan p;
    if (!st.import_dir.empty()) {
      p.files = {st.import_dir / "triples.jsonl", st.import_dir / "manifest.json"};
      p.config = {{"import", st.import_dir.string()}};
      return p;
    }
    json templates = json::array();
    for (const auto& f : st.templates) {
      templates.push_back(f.filename().string());
      p.files.push_back(f);
    }
    const fs::path model = detail::llm_model_path(root);
    p.files.push_back(model);
    p.config = {{"llm", detail::llm_key_config(root)},
                {"per_doc", st.gen.per_doc},
                {"limit", st.gen.limit},
                {"batch_size", st.gen.batch_size},
                {"seed", st.gen.seed},
                {"sampling",
                 {{"temperature", st.gen.sampling.temperature},
                  {"top_p", st.gen.sampling.top_p},
                  {"top_k", st.gen.sampling.top_k},
                  {"min_p", st.gen.sampling.min_p}}},
                {"templates", templates},
                {"few_shot_real", st.few_shot_real},
                {"max_doc_chars", st.prompt.max_doc_chars},
                {"max_example_chars", st.prompt.max_example_chars},
                {"example_sets", st.prompt.example_sets},
                {"filters", st.filters.to_json()}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    SynthSettings st = synth_settings(ctx.section(), ctx.root());
    const fs::path data = ctx.input("data");
    if (!st.import_dir.empty()) return import_synthesis(ctx, st.import_dir, data);
    std::vector<Document> docs = read_corpus(data / "train_corpus.jsonl");
    std::unordered_map<std::string, const Document*> by_id;
    const std::vector<Document> all = read_corpus(data / "korquad" / "corpus.jsonl");
    for (const Document& d : all) by_id.emplace(d.id, &d);
    std::vector<synth::FewShotExample> pool;
    if (st.few_shot_real) {
      pool = synth::few_shot_pool(synth::read_triples(data / "train_triples.jsonl"),
                                  [&](const std::string& id) {
                                    auto it = by_id.find(id);
                                    return it == by_id.end() ? nullptr : it->second;
                                  });
    }
    std::vector<synth::PromptBuilder> builders;
    for (const fs::path& f : st.templates) {
      builders.emplace_back(synth::load_prompt_template(f), pool, st.prompt);
    }
    // Round trip against BM25 over every passage (the retriever the final system competes with).
    std::unique_ptr<synth::Bm25Retriever> retriever;
    if (st.filters.round_trip_enabled) {
      retriever = synth::Bm25Retriever::from_corpus(data / "korquad" / "corpus.jsonl");
    }
    synth::Funnel funnel = synth::make_default_funnel(st.filters, retriever.get());

    auto& llm = dynamic_cast<detail::LlmResource&>(ctx.resource("llm"));
    st.gen.model = llm.model_id();
    // The cache lives in the stable work dir: a killed run resumes from the last committed batch.
    synth::GenerationCache cache(ctx.work_dir() / "cache.sqlite");
    const synth::SynthesisResult result =
        synth::synthesize_queries(docs, builders, llm.backend(), cache, funnel, st.gen);
    json cfg = ctx.config();
    cfg["model"] = st.gen.model;
    synth::write_synthesis(ctx.out_dir() / "queries", result, cfg);
    const auto& g = result.stats;
    ctx.stats = {{"funnel", result.funnel.to_json()},
                 {"generation", g.to_json()},
                 {"documents", st.gen.limit ? std::min(st.gen.limit, docs.size()) : docs.size()},
                 {"candidates", result.candidates.size()},
                 {"triples", result.triples.size()},
                 {"few_shot_pool", pool.size()},
                 {"generated_tok_s",
                  g.generate_seconds > 0 ? g.generated_tokens / g.generate_seconds : 0.0}};
    spdlog::info("synth: {} requests ({} cached), {} of {} candidates kept", g.requests, g.cached,
                 result.triples.size(), result.candidates.size());
  };
  return s;
}

}  // namespace ksparse::pipeline
