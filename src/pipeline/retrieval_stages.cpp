// Stages `bm25` (index + held-out evaluation), `expansion` (BM25 with synonym query expansion) and
// `ablations` (every system on the same held-out queries, paired significance tests).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "ksparse/core/analyzer.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/eval/significance.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/terms.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path korquad_dir(const StageContext& ctx) { return ctx.input("data") / "korquad"; }

}  // namespace

StageSpec bm25_stage() {
  StageSpec s;
  s.name = "bm25";
  s.description = "bigram BM25 index over all passages; search + evaluate held-out queries";
  s.deps = {"data"};
  s.plan = [](const ConfigTable& t, const ConfigTable&) {
    t.expect_keys({"enabled", "analyzer", "k1", "b", "index_title", "k", "metrics"});
    Bm25IndexOptions o;
    o.analyzer.kind = t.get<std::string>("analyzer", o.analyzer.kind);
    o.bm25.k1 = t.get("k1", o.bm25.k1);
    o.bm25.b = t.get("b", o.bm25.b);
    o.index_title = t.get("index_title", o.index_title);
    try {
      o.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(t.where() + ": [bm25]: " + e.what());
    }
    const auto k = t.get<std::int64_t>("k", 100);
    if (k < 1) throw ConfigError(t.where("k") + ": `bm25.k` must be >= 1");
    StagePlan p;
    p.config = {{"index", o.to_json()},
                {"k", k},
                {"metrics", detail::metrics_string(detail::metrics_from(t))}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const ConfigTable& t = ctx.section();
    Bm25IndexOptions o;
    o.analyzer.kind = t.get<std::string>("analyzer", o.analyzer.kind);
    o.bm25.k1 = t.get("k1", o.bm25.k1);
    o.bm25.b = t.get("b", o.bm25.b);
    o.index_title = t.get("index_title", o.index_title);
    o.show_progress = false;
    const fs::path corpus = korquad_dir(ctx) / "corpus.jsonl";
    const InvertedIndex built = build_bm25_index(corpus, o);
    write_index_dir(ctx.out_dir() / "index", built, o, corpus);
    const InvertedIndex index = open_index_dir(ctx.out_dir() / "index");
    const std::vector<Query> queries = read_queries(ctx.input("data") / "test_queries.jsonl");
    const Run run = detail::bm25_run(index, queries, ctx.config()["k"].get<std::size_t>(),
                                     detail::threads_from(ctx.root()));
    const auto metrics = parse_metrics(ctx.config()["metrics"].get<std::string>());
    const EvalResult r = detail::evaluate_and_write(
        ctx.out_dir(), read_qrels(korquad_dir(ctx) / "qrels" / "test.tsv"), run, metrics, "bm25");
    ctx.stats["index"] = index.stats().num_docs;
    ctx.stats["queries"] = queries.size();
    for (std::size_t m = 0; m < metrics.size(); ++m) ctx.stats[metrics[m].name()] = r.mean[m];
  };
  return s;
}

namespace {

// BM25 with each query's words expanded by their dictionary equivalents (weight × their BM25
// weights), searched and evaluated into `out_dir` (run.trec, eval files). Returns the stats.
json expand_and_search(const StageContext& ctx, const InvertedIndex& index,
                       const Analyzer& analyzer, const std::vector<Query>& queries,
                       const Qrels& qrels, const fs::path& dict_dir, const fs::path& out_dir,
                       const std::string& run_tag) {
  const json& c = ctx.config();
  fs::create_directories(out_dir);
  const synonyms::Dictionary dict = synonyms::load_dictionary(dict_dir);
  const double min_score = c["min_score"].get<double>();
  // term -> equivalents in the other language, best first.
  std::map<std::string, std::vector<std::pair<double, std::string>>> eq;
  for (const synonyms::Entry* e : dict.entries()) {
    if (e->score() < min_score) continue;
    eq[e->ko].push_back({e->score(), e->en});
    eq[e->en].push_back({e->score(), e->ko});
  }
  for (auto& [term, list] : eq) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
  }
  const auto max_exp = c["max_expansions"].get<std::size_t>();
  const float weight = c["weight"].get<float>();
  std::vector<std::string> ids;
  std::vector<SparseVector> vectors;
  std::size_t expanded_queries = 0, added_terms = 0;
  JsonlWriter out(out_dir / "expanded_queries.jsonl");
  for (const Query& q : queries) {
    std::vector<std::pair<TermId, float>> pairs;
    const SparseVector base = encode_query(index, analyzer, q.text);
    for (const auto& e : base.entries()) pairs.emplace_back(e.term, e.weight);
    std::vector<std::string> added;
    std::set<std::string> seen;
    for (const std::string& w : synonyms::extract_words(q.text)) {
      auto it = eq.find(w);
      if (it == eq.end() || !seen.insert(w).second) continue;
      std::size_t n = 0;
      for (const auto& [score, other] : it->second) {
        if (n++ >= max_exp) break;
        added.push_back(other);
        const SparseVector extra = encode_query(index, analyzer, other);
        for (const auto& e : extra.entries()) pairs.emplace_back(e.term, weight * e.weight);
      }
    }
    if (!added.empty()) ++expanded_queries;
    added_terms += added.size();
    out.write(json{{"_id", q.id}, {"text", q.text}, {"expansions", added}});
    ids.push_back(q.id);
    vectors.push_back(SparseVector::from_pairs(std::move(pairs)));
  }
  out.close();
  const Run run = detail::search_run(index, ids, vectors, c["k"].get<std::size_t>(),
                                     detail::threads_from(ctx.root()));
  const auto metrics = parse_metrics(c["metrics"].get<std::string>());
  const EvalResult r = detail::evaluate_and_write(out_dir, qrels, run, metrics, run_tag);
  json stats = {{"queries", ids.size()},
                {"expanded_queries", expanded_queries},
                {"added_terms", added_terms},
                {"dictionary_entries", dict.size()}};
  for (std::size_t m = 0; m < metrics.size(); ++m) stats[metrics[m].name()] = r.mean[m];
  return stats;
}

}  // namespace

StageSpec expansion_stage() {
  StageSpec s;
  s.name = "expansion";
  s.description = "BM25 + synonym expansion of the held-out queries";
  s.deps = {"data", "bm25", "synonyms"};
  s.plan = [](const ConfigTable& t, const ConfigTable&) {
    t.expect_keys({"enabled", "weight", "max_expansions", "min_score", "k", "metrics"});
    const double w = t.get("weight", 0.3);
    if (!(w > 0.0)) throw ConfigError(t.where("weight") + ": `expansion.weight` must be > 0");
    const auto max_exp = t.get<std::int64_t>("max_expansions", 3);
    if (max_exp < 1) {
      throw ConfigError(t.where("max_expansions") + ": `expansion.max_expansions` must be >= 1");
    }
    StagePlan p;
    p.config = {{"weight", w},
                {"max_expansions", max_exp},
                {"min_score", t.get("min_score", 0.0)},
                {"k", t.get<std::int64_t>("k", 100)},
                {"metrics", detail::metrics_string(detail::metrics_from(t))}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const InvertedIndex index = open_index_dir(ctx.input("bm25") / "index");
    const Analyzer analyzer(index_analyzer_options(index));
    const std::vector<Query> queries = read_queries(ctx.input("data") / "test_queries.jsonl");
    const Qrels qrels = read_qrels(korquad_dir(ctx) / "qrels" / "test.tsv");
    const fs::path syn = ctx.input("synonyms");
    ctx.stats = expand_and_search(ctx, index, analyzer, queries, qrels, syn / "dict", ctx.out_dir(),
                                  "bm25+synonyms");
    // The ablation's other arm, when the synonyms stage built an LLM-verified dictionary too.
    if (fs::exists(syn / "dict_unverified")) {
      ctx.stats["unverified"] =
          expand_and_search(ctx, index, analyzer, queries, qrels, syn / "dict_unverified",
                            ctx.out_dir() / "unverified", "bm25+synonyms-unverified");
    }
  };
  return s;
}

StageSpec ablations_stage() {
  StageSpec s;
  s.name = "ablations";
  s.description = "every system on the held-out queries; paired significance tests";
  // Systems come from the deps that exist in this build and are enabled (register_workflow drops
  // the encoder stages from builds without libtorch).
  s.deps = {"data", "bm25", "expansion", "synonyms", "eval_real", "eval_synth"};
  s.plan = [](const ConfigTable& t, const ConfigTable&) {
    t.expect_keys({"enabled", "metrics", "test", "trials", "seed"});
    const std::string test = t.get<std::string>("test", "randomization");
    try {
      parse_paired_test(test);
    } catch (const ConfigError& e) {
      throw ConfigError(t.where("test") + ": `ablations.test`: " + e.what());
    }
    const auto trials = t.get<std::int64_t>("trials", 10000);
    if (trials < 1) throw ConfigError(t.where("trials") + ": `ablations.trials` must be >= 1");
    StagePlan p;
    p.config = {{"metrics", detail::metrics_string(detail::metrics_from(t))},
                {"test", test},
                {"trials", trials},
                {"seed", t.get<std::int64_t>("seed", 42)}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const json& c = ctx.config();
    const auto metrics = parse_metrics(c["metrics"].get<std::string>());
    const Qrels qrels = read_qrels(ctx.input("data") / "korquad" / "qrels" / "test.tsv");
    struct System {
      std::string name, label;
      fs::path dir;
      EvalResult result;
    };
    // {system name, stage, sub-directory of the stage artifact holding run.trec, label}
    struct Candidate {
      std::string name, stage, sub, label;
    };
    const std::vector<Candidate> candidates = {
        {"bm25", "bm25", "", "BM25"},
        {"expansion_unverified", "expansion", "unverified",
         "BM25 + synonym expansion (unverified: embedding-only)"},
        {"expansion", "expansion", "", "BM25 + synonym expansion"},
        {"sparse_real", "eval_real", "", "sparse, real questions only"},
        {"sparse_synth", "eval_synth", "", "sparse, real + synthetic"},
        {"fusion_real", "eval_real", "fusion", "BM25 + sparse (real only)"},
        {"fusion_synth", "eval_synth", "fusion", "BM25 + sparse (real + synthetic)"}};
    std::vector<System> systems;
    for (const auto& cand : candidates) {
      if (!ctx.has_input(cand.stage)) continue;
      const fs::path dir =
          cand.sub.empty() ? ctx.input(cand.stage) : ctx.input(cand.stage) / cand.sub;
      if (!fs::exists(dir / "run.trec")) continue;  // e.g. no unverified arm without verification
      // Re-evaluate from the run file itself, so the table is exactly what `ksparse eval` gives
      // for that run.
      systems.push_back(
          {cand.name, cand.label, dir, evaluate(qrels, read_trec_run(dir / "run.trec"), metrics)});
    }
    if (systems.empty()) throw ConfigError("ablations: no system to compare (enable [bm25])");
    auto find = [&](const std::string& name) -> const System* {
      for (const auto& sys : systems) {
        if (sys.name == name) return &sys;
      }
      return nullptr;
    };
    const PairedTest test = parse_paired_test(c["test"].get<std::string>());
    RandomizationOptions ro;
    ro.trials = c["trials"].get<std::size_t>();
    ro.seed = c["seed"].get<std::uint64_t>();
    json sys_json = json::array();
    for (const auto& sys : systems) {
      json m = json::object();
      for (std::size_t i = 0; i < metrics.size(); ++i) m[metrics[i].name()] = sys.result.mean[i];
      sys_json.push_back({{"name", sys.name},
                          {"label", sys.label},
                          {"run", (sys.dir / "run.trec").string()},
                          {"queries", sys.result.query_ids.size()},
                          {"metrics", m}});
    }
    // (baseline a, system b): b's gain over a. The first is the headline: with vs without
    // synthetic data.
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"sparse_real", "sparse_synth"}, {"fusion_real", "fusion_synth"},
        {"bm25", "fusion_synth"},        {"bm25", "fusion_real"},
        {"bm25", "sparse_synth"},        {"bm25", "sparse_real"},
        {"bm25", "expansion"},           {"expansion_unverified", "expansion"}};
    json comps = json::array();
    json not_run = json::array();
    for (const auto& [an, bn] : pairs) {
      const System* a = find(an);
      const System* b = find(bn);
      if (!a || !b) {
        const std::string missing = !a ? an : bn;
        const std::string why =
            missing == "expansion_unverified" && find("expansion")
                ? "the synonyms stage verified nothing (synonyms.verify = false), so it built "
                  "one dictionary, not an LLM-verified and an unverified one"
                : missing + " is not in this run (its stage is disabled or not in this build)";
        not_run.push_back({{"comparison", bn + " vs " + an}, {"reason", why}});
        continue;
      }
      if (a->result.query_ids != b->result.query_ids) {
        throw DataError("ablations: " + a->name + " and " + b->name +
                        " were evaluated on different queries");
      }
      for (std::size_t i = 0; i < metrics.size(); ++i) {
        const auto va = a->result.column(i), vb = b->result.column(i);
        const PairedTestResult r = test == PairedTest::kRandomization
                                       ? paired_randomization_test(va, vb, ro)
                                       : paired_t_test(va, vb);
        comps.push_back({{"a", a->name},
                         {"b", b->name},
                         {"metric", metrics[i].name()},
                         {"test", paired_test_name(test)},
                         {"n", r.n},
                         {"mean_a", r.mean_a},
                         {"mean_b", r.mean_b},
                         {"mean_diff", r.mean_diff},
                         {"p_value", r.p_value}});
      }
    }
    const json out = {{"systems", sys_json},
                      {"comparisons", comps},
                      {"not_run", not_run},
                      {"metrics", detail::metrics_string(metrics)},
                      {"qrels", (ctx.input("data") / "korquad" / "qrels" / "test.tsv").string()}};
    detail::write_json(ctx.out_dir() / "ablations.json", out);
    ctx.stats = {
        {"systems", systems.size()}, {"comparisons", comps.size()}, {"not_run", not_run.size()}};
  };
  return s;
}

}  // namespace ksparse::pipeline
