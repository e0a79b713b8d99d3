// `ksparse synth negatives|merge|report`: the LLM-independent steps of synthetic training data
// (hard negatives with BM25, mixing synthetic with real triples, the dataset report).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/synth/merge.h"
#include "ksparse/synth/negatives.h"
#include "ksparse/synth/triples.h"
#ifdef KSPARSE_HAVE_LLAMA
#include "synth_llm.h"
#endif

namespace ksparse::cli {
namespace {
namespace fs = std::filesystem;

struct NegativesCommandOptions {
  fs::path corpus;   // BEIR corpus.jsonl the triples refer to
  fs::path triples;  // triples.jsonl
  fs::path out;      // directory for triples.jsonl + manifest.json
  synth::NegativeMiningOptions mining;
  bool json = false;  // print the stats as JSON on stdout
#ifdef KSPARSE_HAVE_LLAMA
  SynthLlmOptions llm;  // --llm-model: near-miss passages written by the LLM, after BM25
#endif
};

void run_negatives(const NegativesCommandOptions& opt) {
  const auto stats = synth::mine_negatives_files(opt.corpus, opt.triples, opt.out, opt.mining);
  nlohmann::json near_miss;
#ifdef KSPARSE_HAVE_LLAMA
  if (!opt.llm.model.empty()) {
    near_miss = run_llm_near_misses(opt.corpus, opt.out, opt.llm, stats.to_json());
  }
#endif
  if (opt.json) {
    nlohmann::json j = stats.to_json();
    if (!near_miss.is_null()) j["near_miss"] = near_miss;
    std::printf("%s\n", j.dump().c_str());
  } else {
    spdlog::info("mined negatives for {} triples ({} with negatives, {} short of {}) into {}",
                 stats.triples, stats.with_negatives, stats.short_of_per_query,
                 opt.mining.per_query, (opt.out / "triples.jsonl").string());
  }
}

std::unordered_map<std::string, Document> load_corpus_map(const fs::path& path) {
  std::unordered_map<std::string, Document> out;
  if (path.empty()) return out;
  CorpusReader reader(path);
  Document doc;
  while (reader.next(doc)) {
    std::string id = doc.id;
    out.emplace(std::move(id), std::move(doc));
  }
  return out;
}

nlohmann::json load_json_file(const fs::path& path) {
  if (path.empty()) return nullptr;
  std::ifstream in(path);
  if (!in) throw IoError("cannot read " + path.string());
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw DataError(path.string() + ": not valid JSON (expected funnel.json)");
  return j;
}

struct MergeCommandOptions {
  fs::path synthetic;  // synthetic triples.jsonl
  fs::path real;       // real triples.jsonl, or ...
  fs::path queries;    // ... BEIR queries.jsonl + qrels
  fs::path qrels;
  fs::path corpus;  // optional: passage excerpts in the report
  fs::path funnel;  // optional: funnel.json from `synth queries`
  fs::path out;
  synth::MergeOptions merge;
  std::size_t examples = 20;
};

void run_merge(const MergeCommandOptions& opt) {
  opt.merge.validate();
  std::vector<synth::Triple> real;
  std::vector<fs::path> inputs = {opt.synthetic};
  if (!opt.real.empty()) {
    if (!opt.queries.empty() || !opt.qrels.empty()) {
      throw ConfigError("give either --real or --queries with --qrels, not both");
    }
    real = synth::read_triples(opt.real);
    inputs.push_back(opt.real);
  } else if (!opt.queries.empty() && !opt.qrels.empty()) {
    real = synth::triples_from_beir(read_queries(opt.queries), read_qrels(opt.qrels));
    inputs.push_back(opt.queries);
    inputs.push_back(opt.qrels);
  } else {
    throw ConfigError("real triples are needed: --real triples.jsonl, or --queries and --qrels");
  }
  const auto synthetic = synth::read_triples(opt.synthetic);
  const synth::MergeResult result = synth::merge_triples(real, synthetic, opt.merge);
  const auto corpus = load_corpus_map(opt.corpus);
  synth::ReportOptions ro;
  ro.examples = opt.examples;
  ro.seed = opt.merge.seed;
  const auto report = synth::dataset_report(result.train, load_json_file(opt.funnel),
                                            opt.corpus.empty() ? nullptr : &corpus, ro);
  write_merge(opt.out, result, report, {{"merge", opt.merge.to_json()}}, inputs);
  spdlog::info("train {} triples ({} real, {} synthetic), validation {} real triples -> {}",
               result.train.size(), result.stats["real_train"].get<std::size_t>(),
               result.stats["synthetic_used"].get<std::size_t>(), result.validation.size(),
               opt.out.string());
}

struct ReportCommandOptions {
  fs::path triples;
  fs::path corpus;
  fs::path funnel;
  fs::path out;  // directory for stats.json + stats.md
  synth::ReportOptions report;
};

void run_report(const ReportCommandOptions& opt) {
  const auto triples = synth::read_triples(opt.triples);
  const auto corpus = load_corpus_map(opt.corpus);
  const auto report = synth::dataset_report(triples, load_json_file(opt.funnel),
                                            opt.corpus.empty() ? nullptr : &corpus, opt.report);
  fs::create_directories(opt.out);
  std::ofstream js(opt.out / "stats.json");
  js << report.dump(2) << "\n";
  std::ofstream md(opt.out / "stats.md");
  md << synth::report_markdown(report);
  if (!js || !md) throw IoError("cannot write the report into " + opt.out.string());
}

}  // namespace

void add_synth_commands(CLI::App& app) {
  auto* synth = app.add_subcommand("synth", "Synthetic training data (LLM-free steps)")
                    ->require_subcommand(1);

  auto neg_opt = std::make_shared<NegativesCommandOptions>();
  auto* neg = synth->add_subcommand(
      "negatives",
      "Mine BM25 hard negatives for triples (positive and its near-duplicates "
      "excluded)");
  neg->add_option("--corpus", neg_opt->corpus, "BEIR corpus.jsonl")->required();
  neg->add_option("--triples", neg_opt->triples, "triples.jsonl")->required();
  neg->add_option("--out", neg_opt->out, "Output directory (triples.jsonl, manifest.json)")
      ->required();
  neg->add_option("--k", neg_opt->mining.k, "BM25 depth")->capture_default_str();
  neg->add_option("--per-query", neg_opt->mining.per_query, "Negatives per triple")
      ->capture_default_str();
  neg->add_option("--skip-top", neg_opt->mining.skip_top,
                  "Skip this many top eligible hits (likely unjudged positives)")
      ->capture_default_str();
  neg->add_option("--near-dup", neg_opt->mining.near_duplicate_threshold,
                  "MinHash Jaccard with the positive at or above which a passage is excluded "
                  "(> 1 disables)")
      ->capture_default_str();
  neg->add_option("--seed", neg_opt->mining.seed, "Seed of the draw")->capture_default_str();
  neg->add_flag("--keep-existing", neg_opt->mining.keep_existing,
                "Leave triples that already have negatives as they are");
  neg->add_flag("--json", neg_opt->json, "Print the stats as JSON");
#ifdef KSPARSE_HAVE_LLAMA
  neg_opt->llm.templates = {"configs/prompts/near_miss_negative.toml"};
  neg_opt->llm.gen.per_doc = 1;
  add_synth_llm_options(neg, neg_opt->llm, "llm", /*with_model=*/false);
#endif
  neg->callback([neg_opt] { run_negatives(*neg_opt); });

  auto merge_opt = std::make_shared<MergeCommandOptions>();
  auto* merge = synth->add_subcommand(
      "merge", "Mix synthetic with real triples; validation split stays real-only; report");
  merge->add_option("--synthetic", merge_opt->synthetic, "Synthetic triples.jsonl")->required();
  merge->add_option("--real", merge_opt->real, "Real triples.jsonl");
  merge->add_option("--queries", merge_opt->queries, "Real BEIR queries.jsonl (with --qrels)");
  merge->add_option("--qrels", merge_opt->qrels, "Real BEIR qrels TSV (with --queries)");
  merge->add_option("--corpus", merge_opt->corpus, "BEIR corpus.jsonl for passages in the report");
  merge->add_option("--funnel", merge_opt->funnel, "funnel.json of the synthetic run");
  merge
      ->add_option("--out", merge_opt->out,
                   "Output directory (train.jsonl, valid.jsonl, stats.json, stats.md)")
      ->required();
  merge
      ->add_option("--ratio", merge_opt->merge.synthetic_per_real,
                   "Synthetic triples per real training triple (1 = 1:1, 0.5 = 1:2)")
      ->capture_default_str();
  merge
      ->add_option("--valid-fraction", merge_opt->merge.validation_fraction,
                   "Share of real query ids held out for validation")
      ->capture_default_str();
  merge->add_flag("!--allow-validation-docs", merge_opt->merge.exclude_validation_docs,
                  "Keep synthetic triples whose positive is a validation positive");
  merge->add_option("--seed", merge_opt->merge.seed, "Seed")->capture_default_str();
  merge->add_option("--examples", merge_opt->examples, "Random examples in the report")
      ->capture_default_str();
  merge->callback([merge_opt] { run_merge(*merge_opt); });

  auto rep_opt = std::make_shared<ReportCommandOptions>();
  auto* rep = synth->add_subcommand("report", "Dataset report (stats.json + stats.md)");
  rep->add_option("--triples", rep_opt->triples, "triples.jsonl")->required();
  rep->add_option("--corpus", rep_opt->corpus, "BEIR corpus.jsonl for passages");
  rep->add_option("--funnel", rep_opt->funnel, "funnel.json");
  rep->add_option("--out", rep_opt->out, "Output directory")->required();
  rep->add_option("--examples", rep_opt->report.examples, "Random examples")->capture_default_str();
  rep->add_option("--seed", rep_opt->report.seed, "Seed of the example draw")
      ->capture_default_str();
  rep->callback([rep_opt] { run_report(*rep_opt); });
}

}  // namespace ksparse::cli
