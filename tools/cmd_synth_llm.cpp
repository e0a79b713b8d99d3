// `ksparse synth docs|augment` and the near-miss step of `ksparse synth negatives --llm-model`:
// text -> text generation with the in-process llama.cpp backend through the resumable generation
// cache and a filter funnel (synth/rewrite.h). Built only with KSPARSE_WITH_LLAMA.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/synth/retriever.h"
#include "ksparse/synth/rewrite.h"
#include "ksparse/synth/triples.h"
#include "synth_llm.h"

namespace ksparse::cli {
namespace fs = std::filesystem;
using nlohmann::json;

void add_synth_llm_options(CLI::App* cmd, SynthLlmOptions& opt, const std::string& prefix,
                           bool with_model) {
  const std::string p = prefix.empty() ? "--" : "--" + prefix + "-";
  if (with_model) {
    cmd->add_option(p + "model", opt.model, "GGUF model")->required()->check(CLI::ExistingFile);
  } else {
    cmd->add_option(p + "model", opt.model, "GGUF model (enables the LLM step)")
        ->check(CLI::ExistingFile);
  }
  cmd->add_option(p + "templates", opt.templates, "Prompt template files")->capture_default_str();
  cmd->add_option(p + "cache", opt.cache, "Generation cache (default <out>/cache.sqlite)");
  cmd->add_option(p + "per-doc", opt.gen.per_doc, "Generations per input")->capture_default_str();
  cmd->add_option(p + "limit", opt.gen.limit, "First N inputs (0 = all)")->capture_default_str();
  cmd->add_option(p + "seed", opt.gen.seed, "Seed (sampling)")->capture_default_str();
  cmd->add_option(p + "batch", opt.gen.batch_size,
                  "Requests per generate() call and per cache transaction")
      ->capture_default_str();
  cmd->add_option(p + "parallel", opt.parallel, "Sequences decoded together")
      ->capture_default_str();
  cmd->add_option(p + "ctx-per-seq", opt.ctx_per_seq, "KV cells per sequence")
      ->capture_default_str();
  cmd->add_option(p + "threads", opt.threads, "CPU threads (0 = all)")->capture_default_str();
  cmd->add_option(p + "gpu-layers", opt.gpu_layers, "Layers on the GPU (-1 = plan automatically)")
      ->capture_default_str();
  cmd->add_option(p + "temperature", opt.gen.sampling.temperature, "Sampling temperature")
      ->capture_default_str();
  cmd->add_option(p + "top-p", opt.gen.sampling.top_p, "Nucleus sampling (1 = off)")
      ->capture_default_str();
  cmd->add_option(p + "min-logprob", opt.filters.logprob.min_mean_logprob,
                  "Reject generations whose mean token log-probability is below this")
      ->capture_default_str();
}

namespace {

std::unique_ptr<llm::LlamaBackend> make_backend(SynthLlmOptions& opt) {
  opt.gen.model = opt.model.filename().string() + " sha256:" + sha256_file(opt.model);
  llm::LlamaBackendOptions lo;
  lo.model.path = opt.model;
  lo.model.n_gpu_layers = opt.gpu_layers;
  lo.context.n_parallel = opt.parallel;
  lo.context.n_ctx = opt.ctx_per_seq * opt.parallel;
  lo.context.n_threads = opt.threads;
  lo.base_seed = static_cast<uint32_t>(opt.gen.seed);
  return std::make_unique<llm::LlamaBackend>(lo);
}

std::vector<synth::PromptBuilder> make_builders(const SynthLlmOptions& opt) {
  if (opt.templates.empty()) throw ConfigError("at least one prompt template is needed");
  std::vector<synth::PromptBuilder> out;
  for (const fs::path& t : opt.templates) {
    out.emplace_back(synth::load_prompt_template(t), std::vector<synth::FewShotExample>{},
                     opt.prompt);
  }
  return out;
}

json run_config(const SynthLlmOptions& opt, const std::vector<synth::PromptBuilder>& builders,
                const fs::path& cache) {
  json templates = json::array();
  for (const auto& b : builders) {
    templates.push_back({{"name", b.prompt_template().name},
                         {"path", b.prompt_template().path.string()},
                         {"sha256", b.prompt_template().hash}});
  }
  return {{"model", opt.gen.model},
          {"templates", templates},
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
          {"cache", fs::absolute(cache).string()}};
}

void write_json_file(const fs::path& path, const json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw IoError("cannot write " + path.string());
}

void write_rejections(const fs::path& path, const synth::RewriteResult& r,
                      const std::vector<synth::RewriteItem>& items) {
  JsonlWriter w(path);
  for (const synth::Rejection& rej : r.funnel.rejections) {
    const auto& sc = r.candidates[rej.index];
    w.write(json{{"id", sc.query_id},
                 {"source_id", items[r.item_of[rej.index]].id},
                 {"text", sc.candidate.query},
                 {"filter", rej.filter},
                 {"reason", rej.reason}});
  }
  w.close();
}

void log_stats(const char* what, const synth::RewriteResult& r) {
  const auto& st = r.stats;
  spdlog::info(
      "{}: {} requests ({} cached, {} generated in {:.1f} s, {:.1f} generated tokens/s); "
      "{} of {} candidates passed every filter",
      what, st.requests, st.cached, st.generated, st.generate_seconds,
      st.generate_seconds > 0 ? st.generated_tokens / st.generate_seconds : 0.0,
      r.funnel.kept.size(), r.funnel.input);
}

// A "<prefix>-<item>-<j>" id from a candidate's "syn-<id>-<item>-<j>" query id.
std::string output_id(const std::string& prefix, const synth::RewriteItem& item,
                      const std::string& candidate_id) {
  const std::string head = "syn-" + item.id + "-";
  return prefix + "-" + item.id + "-" + candidate_id.substr(head.size());
}

// --- synth docs ---

struct DocsCommandOptions {
  fs::path queries;  // BEIR queries.jsonl
  fs::path qrels;    // optional: queries with a judged passage here are skipped
  fs::path out;
  SynthLlmOptions llm;
  double min_overlap = 0.3;
  bool json = false;
};

void run_docs(DocsCommandOptions opt) {
  std::unordered_set<std::string> with_passage;
  if (!opt.qrels.empty()) {
    for (const auto& [qid, docs] : read_qrels(opt.qrels)) {
      for (const auto& [doc, rel] : docs) {
        if (rel > 0) with_passage.insert(qid);
      }
    }
  }
  std::vector<synth::RewriteItem> items;
  for (const Query& q : read_queries(opt.queries)) {
    if (with_passage.count(q.id)) continue;
    items.push_back({q.id, q.text, "", ""});
  }
  spdlog::info("{} queries without a passage", items.size());
  opt.llm.filters.length = synth::passage_length_options();
  opt.llm.filters.repetition = synth::passage_repetition_options();
  opt.llm.filters.round_trip_enabled = false;
  opt.llm.filters.validate();
  synth::TermOverlapFilterOptions overlap;
  overlap.min_share = opt.min_overlap;
  synth::Funnel funnel = synth::make_passage_funnel(opt.llm.filters, &overlap);
  const auto builders = make_builders(opt.llm);
  auto backend = make_backend(opt.llm);
  const fs::path cache_path = opt.llm.cache.empty() ? opt.out / "cache.sqlite" : opt.llm.cache;
  synth::GenerationCache cache(cache_path);
  const synth::RewriteResult r =
      synth::run_rewrite(items, builders, *backend, cache, funnel, opt.llm.gen);

  fs::create_directories(opt.out);
  std::vector<synth::Triple> triples;
  {
    JsonlWriter corpus(opt.out / "corpus.jsonl");
    for (std::size_t i : r.funnel.kept) {
      const auto& sc = r.candidates[i];
      const synth::RewriteItem& item = items[r.item_of[i]];
      const std::string id = output_id("pdoc", item, sc.query_id);
      synth::Provenance p = synth::rewrite_provenance(r, i, builders, opt.llm.gen);
      corpus.write(json{{"_id", id},
                        {"title", ""},
                        {"text", sc.candidate.query},
                        {"metadata", {{"query_id", item.id}, {"provenance", p.to_json()}}}});
      synth::Triple t;
      t.query = item.source;
      t.query_id = item.id;
      t.positive_id = id;
      t.source = synth::TripleSource::kSynthetic;
      t.provenance = std::move(p);
      triples.push_back(std::move(t));
    }
    corpus.close();
  }
  synth::write_triples(opt.out / "triples.jsonl", triples);
  write_rejections(opt.out / "rejections.jsonl", r, items);
  const json funnel_json = r.funnel.to_json();
  write_json_file(opt.out / "funnel.json", funnel_json);
  json config = run_config(opt.llm, builders, cache_path);
  config["queries"] = fs::absolute(opt.queries).string();
  config["qrels"] = opt.qrels.empty() ? "" : fs::absolute(opt.qrels).string();
  config["min_overlap"] = opt.min_overlap;
  Manifest m = make_manifest("synth-docs", config);
  m.inputs.push_back(describe_file(opt.queries));
  for (const char* f : {"corpus.jsonl", "triples.jsonl", "funnel.json", "rejections.jsonl"}) {
    m.outputs.push_back(describe_file(opt.out / f, opt.out));
  }
  m.stats = {{"funnel", funnel_json}, {"generation", r.stats.to_json()}};
  write_manifest(opt.out, m);
  log_stats("synth docs", r);
  if (opt.json) std::printf("%s\n", funnel_json.dump().c_str());
}

// --- synth augment ---

struct AugmentCommandOptions {
  fs::path triples;     // real or synthetic triples.jsonl
  fs::path corpus;      // BEIR corpus of the positives (round-trip filter)
  fs::path dictionary;  // optional synonyms.json
  double min_dictionary_score = 0.5;
  std::size_t dictionary_variants = 2;
  fs::path out;
  SynthLlmOptions llm;
  bool json = false;
};

void run_augment(AugmentCommandOptions opt) {
  const std::vector<synth::Triple> input = synth::read_triples(opt.triples);
  // One item per query id (its first triple); the paraphrase inherits that triple's positive and
  // negatives.
  std::vector<synth::RewriteItem> items;
  std::vector<const synth::Triple*> source_of;
  std::unordered_set<std::string> seen;
  for (const synth::Triple& t : input) {
    if (!seen.insert(t.query_id).second) continue;
    items.push_back({t.query_id, t.query, "", t.positive_id});
    source_of.push_back(&t);
  }
  if (opt.corpus.empty()) opt.llm.filters.round_trip_enabled = false;
  std::unique_ptr<synth::Bm25Retriever> retriever;
  if (opt.llm.filters.round_trip_enabled) {
    retriever = synth::Bm25Retriever::from_corpus(opt.corpus);
  }

  auto make_triple = [&](const synth::Triple& from, std::string query, std::string id,
                         synth::Provenance p, const char* kind) {
    synth::Triple t;
    t.query = std::move(query);
    t.query_id = std::move(id);
    t.positive_id = from.positive_id;
    t.negative_ids = from.negative_ids;
    t.source = synth::TripleSource::kSynthetic;
    p.extra = {{"augment", kind},
               {"from_query_id", from.query_id},
               {"from_source", synth::triple_source_name(from.source)}};
    t.provenance = std::move(p);
    return t;
  };

  std::vector<synth::Triple> out;
  json funnels = json::object();
  fs::create_directories(opt.out);
  const fs::path cache_path = opt.llm.cache.empty() ? opt.out / "cache.sqlite" : opt.llm.cache;
  json config;
  {
    synth::Funnel funnel = synth::make_default_funnel(opt.llm.filters, retriever.get());
    const auto builders = make_builders(opt.llm);
    auto backend = make_backend(opt.llm);
    synth::GenerationCache cache(cache_path);
    const synth::RewriteResult r =
        synth::run_rewrite(items, builders, *backend, cache, funnel, opt.llm.gen);
    for (std::size_t i : r.funnel.kept) {
      const auto& sc = r.candidates[i];
      const std::size_t item = r.item_of[i];
      out.push_back(make_triple(
          *source_of[item], sc.candidate.query, output_id("para", items[item], sc.query_id),
          synth::rewrite_provenance(r, i, builders, opt.llm.gen), "paraphrase"));
    }
    write_rejections(opt.out / "rejections.jsonl", r, items);
    funnels["paraphrase"] = r.funnel.to_json();
    log_stats("synth augment (paraphrase)", r);
    config = run_config(opt.llm, builders, cache_path);
  }
  if (!opt.dictionary.empty()) {
    const auto pairs = synth::read_synonym_pairs(opt.dictionary, opt.min_dictionary_score);
    spdlog::info("{} dictionary pairs with score >= {}", pairs.size(), opt.min_dictionary_score);
    // Variants swap one term, so they share most of their text with the source: no copy or
    // log-probability filter (no LLM), but length, script (both scripts present), duplicates and
    // the round trip still apply.
    synth::Funnel funnel;
    funnel.add(std::make_unique<synth::LengthFilter>(opt.llm.filters.length));
    funnel.add(std::make_unique<synth::ScriptFilter>(opt.llm.filters.script));
    funnel.add(std::make_unique<synth::ExactDuplicateFilter>());
    funnel.add(std::make_unique<synth::NearDuplicateFilter>(opt.llm.filters.near_duplicate));
    if (retriever) {
      funnel.add(std::make_unique<synth::RoundTripFilter>(*retriever, opt.llm.filters.round_trip));
    }
    std::vector<synth::Candidate> cands;
    std::vector<std::pair<std::size_t, std::size_t>> origin;  // (item, variant index)
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto vs = synth::dictionary_variants(items[i].source, pairs, opt.dictionary_variants);
      for (std::size_t j = 0; j < vs.size(); ++j) {
        synth::Candidate c;
        c.query = vs[j];
        c.doc_id = items[i].target_id;
        c.doc_text = items[i].source;
        c.style = "dictionary";
        c.language = synth::QueryLanguage::kMixed;
        cands.push_back(std::move(c));
        origin.emplace_back(i, j);
      }
    }
    const synth::FunnelResult fr = funnel.run(cands);
    for (std::size_t k : fr.kept) {
      const auto [i, j] = origin[k];
      synth::Provenance p;
      p.style = "dictionary";
      p.filters = fr.verdicts(k);
      out.push_back(make_triple(*source_of[i], cands[k].query,
                                "dict-" + items[i].id + "-" + std::to_string(j), std::move(p),
                                "dictionary"));
    }
    funnels["dictionary"] = fr.to_json();
    spdlog::info("synth augment (dictionary): {} of {} variants passed every filter",
                 fr.kept.size(), fr.input);
    config["dictionary"] = fs::absolute(opt.dictionary).string();
    config["min_dictionary_score"] = opt.min_dictionary_score;
    config["dictionary_variants"] = opt.dictionary_variants;
  }
  synth::write_triples(opt.out / "triples.jsonl", out);
  write_json_file(opt.out / "funnel.json", funnels);
  config["triples"] = fs::absolute(opt.triples).string();
  config["corpus"] = opt.corpus.empty() ? "" : fs::absolute(opt.corpus).string();
  Manifest m = make_manifest("synth-augment", config);
  m.inputs.push_back(describe_file(opt.triples));
  for (const char* f : {"triples.jsonl", "funnel.json", "rejections.jsonl"}) {
    m.outputs.push_back(describe_file(opt.out / f, opt.out));
  }
  m.stats = {{"funnel", funnels}, {"triples", out.size()}};
  write_manifest(opt.out, m);
  if (opt.json) std::printf("%s\n", funnels.dump().c_str());
}

}  // namespace

// --- synth negatives --llm-model ---

json run_llm_near_misses(const fs::path& corpus_path, const fs::path& out_dir, SynthLlmOptions opt,
                         const json& bm25_stats) {
  std::unordered_map<std::string, Document> corpus;
  {
    CorpusReader reader(corpus_path);
    Document doc;
    while (reader.next(doc)) {
      std::string id = doc.id;
      corpus.emplace(std::move(id), std::move(doc));
    }
  }
  const fs::path triples_path = out_dir / "triples.jsonl";
  std::vector<synth::Triple> triples = synth::read_triples(triples_path);
  std::vector<synth::RewriteItem> items;
  std::unordered_map<std::string, std::size_t> item_of_query;
  for (const synth::Triple& t : triples) {
    auto it = corpus.find(t.positive_id);
    if (it == corpus.end() || item_of_query.count(t.query_id)) continue;
    item_of_query.emplace(t.query_id, items.size());
    items.push_back({t.query_id, synth::document_prompt_text(it->second), t.query, t.positive_id});
  }
  // A near miss is a passage, on the positive's topic, that shares little text with it: more than
  // 60% of its character 4-grams in the positive reads as a rewording of the answer passage.
  opt.filters.length = synth::passage_length_options();
  opt.filters.repetition = synth::passage_repetition_options();
  opt.filters.copy.max_containment = 0.6;
  opt.filters.round_trip_enabled = false;
  synth::Funnel funnel = synth::make_passage_funnel(opt.filters, nullptr);
  const auto builders = make_builders(opt);
  auto backend = make_backend(opt);
  const fs::path cache_path = opt.cache.empty() ? out_dir / "cache.sqlite" : opt.cache;
  synth::GenerationCache cache(cache_path);
  const synth::RewriteResult r =
      synth::run_rewrite(items, builders, *backend, cache, funnel, opt.gen);

  std::unordered_map<std::string, std::vector<std::string>> new_negatives;  // query id -> ids
  {
    JsonlWriter w(out_dir / "near_miss_corpus.jsonl");
    for (std::size_t i : r.funnel.kept) {
      const auto& sc = r.candidates[i];
      const synth::RewriteItem& item = items[r.item_of[i]];
      const std::string id = output_id("nm", item, sc.query_id);
      w.write(
          json{{"_id", id},
               {"title", ""},
               {"text", sc.candidate.query},
               {"metadata",
                {{"query_id", item.id},
                 {"positive_id", item.target_id},
                 {"provenance", synth::rewrite_provenance(r, i, builders, opt.gen).to_json()}}}});
      new_negatives[item.id].push_back(id);
    }
    w.close();
  }
  for (synth::Triple& t : triples) {
    auto it = new_negatives.find(t.query_id);
    if (it == new_negatives.end()) continue;
    t.negative_ids.insert(t.negative_ids.end(), it->second.begin(), it->second.end());
  }
  synth::write_triples(triples_path, triples);
  write_rejections(out_dir / "rejections_near_miss.jsonl", r, items);
  const json funnel_json = r.funnel.to_json();
  write_json_file(out_dir / "funnel_near_miss.json", funnel_json);
  log_stats("synth negatives (near misses)", r);

  json config = run_config(opt, builders, cache_path);
  config["corpus"] = fs::absolute(corpus_path).string();
  Manifest m = make_manifest("synth-negatives", {{"near_miss", config}});
  m.inputs.push_back(describe_file(corpus_path));
  for (const char* f : {"triples.jsonl", "near_miss_corpus.jsonl", "funnel_near_miss.json",
                        "rejections_near_miss.jsonl"}) {
    m.outputs.push_back(describe_file(out_dir / f, out_dir));
  }
  m.stats = {{"bm25", bm25_stats},
             {"near_miss", {{"funnel", funnel_json}, {"generation", r.stats.to_json()}}}};
  write_manifest(out_dir, m);
  return funnel_json;
}

void add_synth_llm_commands(CLI::App& app) {
  CLI::App* synth = app.get_subcommand("synth");

  auto docs_opt = std::make_shared<DocsCommandOptions>();
  docs_opt->llm.templates = {"configs/prompts/query_to_doc.toml"};
  docs_opt->llm.gen.per_doc = 1;
  auto* docs = synth->add_subcommand(
      "docs",
      "Write a pseudo-document for each query without a passage (LLM), filter, write "
      "corpus + triples");
  docs->add_option("--queries", docs_opt->queries, "BEIR queries.jsonl")->required();
  docs->add_option("--qrels", docs_opt->qrels,
                   "Qrels TSV: queries judged relevant to a passage here are skipped");
  docs->add_option("--out", docs_opt->out,
                   "Output directory (corpus.jsonl, triples.jsonl, funnel.json, ...)")
      ->required();
  docs->add_option("--min-overlap", docs_opt->min_overlap,
                   "Share of the query's terms the pseudo-document must contain")
      ->capture_default_str();
  docs->add_flag("--json", docs_opt->json, "Print the funnel as JSON");
  add_synth_llm_options(docs, docs_opt->llm, "", /*with_model=*/true);
  docs->callback([docs_opt] { run_docs(*docs_opt); });

  auto aug_opt = std::make_shared<AugmentCommandOptions>();
  aug_opt->llm.templates = {"configs/prompts/paraphrase.toml"};
  aug_opt->llm.gen.per_doc = 1;
  auto* aug =
      synth->add_subcommand("augment",
                            "Paraphrase queries (LLM) and swap Korean/English key terms (synonym "
                            "dictionary), filter, write triples");
  aug->add_option("--triples", aug_opt->triples, "Real or synthetic triples.jsonl")->required();
  aug->add_option("--corpus", aug_opt->corpus,
                  "BEIR corpus of the positives (round-trip filter; without it the round trip "
                  "is skipped)");
  aug->add_option("--dictionary", aug_opt->dictionary,
                  "synonyms.json (ksparse synonyms build): Korean <-> English term variants");
  aug->add_option("--min-dictionary-score", aug_opt->min_dictionary_score,
                  "Use dictionary entries with at least this score")
      ->capture_default_str();
  aug->add_option("--dictionary-variants", aug_opt->dictionary_variants,
                  "Dictionary variants per query at most")
      ->capture_default_str();
  aug->add_option("--round-trip-k", aug_opt->llm.filters.round_trip.k,
                  "Round trip: the positive must be in BM25's top-k for the new query")
      ->capture_default_str();
  aug->add_option("--out", aug_opt->out, "Output directory (triples.jsonl, funnel.json, ...)")
      ->required();
  aug->add_flag("--json", aug_opt->json, "Print the funnels as JSON");
  add_synth_llm_options(aug, aug_opt->llm, "", /*with_model=*/true);
  aug->callback([aug_opt] { run_augment(*aug_opt); });
}

}  // namespace ksparse::cli
