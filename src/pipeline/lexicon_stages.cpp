// Stages `trends` (trending terms of the dated news corpus) and `synonyms` (the Korean-English
// dictionary from the corpora and half of the seed lexicon, scored on the held-out half). With
// [synonyms] verify (the default when the config has an [llm] model) the stage builds two
// dictionaries from the same candidates: dict/ (LLM-verified, used downstream) and
// dict_unverified/ (every candidate passing its source's thresholds: the ablation's
// embedding-only arm), each evaluated (eval.json, eval_unverified.json).
#include <memory>
#include <unordered_map>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synonyms/build.h"
#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/evaluate.h"
#include "ksparse/synonyms/lexicon.h"
#include "ksparse/synonyms/llm_judge.h"
#include "ksparse/synonyms/trends.h"
#include "ksparse/synth/caching_backend.h"
#include "llm_resource.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

synonyms::TrendOptions trend_options(const ConfigTable& t) {
  synonyms::TrendOptions o;
  o.date_field = t.get("date_field", o.date_field);
  o.window = t.get("window", o.window);
  o.top = t.get<std::size_t>("top", o.top);
  o.min_count = t.get<std::size_t>("min_count", o.min_count);
  o.min_docs = t.get<std::size_t>("min_docs", o.min_docs);
  o.min_g2 = t.get("min_g2", o.min_g2);
  try {
    o.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(t.where() + ": [trends]: " + e.what());
  }
  return o;
}

// The model-backed parts of the synonyms stage ([synonyms] keys; the model is [llm].model).
struct ModelSettings {
  bool verify = false;      // also build the LLM-verified dictionary (then the one used downstream)
  bool embeddings = false;  // embedding proposals (a second, embedding instance of the model)
  double verify_threshold = 0.8;
  std::size_t verify_max = 300;  // verification budget (even stride through the candidates)
  int reason_tokens = 8;
  std::size_t discover_max_terms = 20;
  std::size_t embed_max_ko = 200;
  std::size_t embed_max_en = 2000;
  double min_embedding_cosine = 0.5;

  void apply(synonyms::BuildOptions& b) const {
    b.verify_threshold = verify_threshold;
    b.verify_max = verify_max;
    b.discover_max_terms = discover_max_terms;
    b.embed_max_ko = embed_max_ko;
    b.embed_max_en = embed_max_en;
    b.min_embedding_cosine = min_embedding_cosine;
  }
  json to_json(const ConfigTable& root) const {
    if (!verify && !embeddings) return nullptr;
    json j = {
        {"llm", detail::llm_key_config(root)}, {"verify", verify}, {"embeddings", embeddings}};
    if (verify) {
      j["verify_threshold"] = verify_threshold;
      j["verify_max"] = verify_max;
      j["reason_tokens"] = reason_tokens;
      j["discover_max_terms"] = discover_max_terms;
    }
    if (embeddings) {
      j["embed_max_ko"] = embed_max_ko;
      j["embed_max_en"] = embed_max_en;
      j["min_embedding_cosine"] = min_embedding_cosine;
    }
    return j;
  }
};

// `verify` and `embeddings` default to true when the config has an [llm] table (the workflow's
// model) and to false otherwise.
ModelSettings model_settings(const ConfigTable& t, const ConfigTable& root) {
  ModelSettings m;
  const bool have_llm = root.contains("llm");
  m.verify = t.get("verify", have_llm);
  m.embeddings = t.get("embeddings", have_llm);
  for (const auto& [key, on] : {std::pair{"verify", m.verify}, {"embeddings", m.embeddings}}) {
    if (!on) continue;
    if (!have_llm) {
      throw ConfigError(t.where(key) + ": `synonyms." + key +
                        " = true` needs the model of an [llm] table; add one or set it to false");
    }
    if (!detail::have_llama()) {
      throw ConfigError(t.where(key) + ": `synonyms." + key +
                        "` needs llama.cpp, which this ksparse was built without; set "
                        "`synonyms." +
                        key + " = false`");
    }
  }
  m.verify_threshold = t.get("verify_threshold", m.verify_threshold);
  m.verify_max = t.get<std::size_t>("verify_max", m.verify_max);
  m.reason_tokens = t.get("reason_tokens", m.reason_tokens);
  m.discover_max_terms = t.get<std::size_t>("discover_max_terms", m.discover_max_terms);
  m.embed_max_ko = t.get<std::size_t>("embed_max_ko", m.embed_max_ko);
  m.embed_max_en = t.get<std::size_t>("embed_max_en", m.embed_max_en);
  m.min_embedding_cosine = t.get("min_embedding_cosine", m.min_embedding_cosine);
  if (!(m.verify_threshold >= 0.0 && m.verify_threshold <= 1.0)) {
    throw ConfigError(t.where("verify_threshold") +
                      ": `synonyms.verify_threshold` must be in [0, 1]");
  }
  if (m.reason_tokens < 0) {
    throw ConfigError(t.where("reason_tokens") + ": `synonyms.reason_tokens` must be >= 0");
  }
  return m;
}

// Embeds each distinct text once over the stage (both builds embed the same terms).
synonyms::EmbedFn memoized(synonyms::EmbedFn embed) {
  auto memo = std::make_shared<std::unordered_map<std::string, std::vector<float>>>();
  return [embed = std::move(embed), memo](const std::vector<std::string>& texts) {
    std::vector<std::string> missing;
    for (const auto& t : texts) {
      if (!memo->count(t)) missing.push_back(t);
    }
    if (!missing.empty()) {
      auto vecs = embed(missing);
      if (vecs.size() != missing.size()) {
        throw ModelError("synonyms: the embedding model returned " + std::to_string(vecs.size()) +
                         " vectors for " + std::to_string(missing.size()) + " terms");
      }
      for (std::size_t i = 0; i < missing.size(); ++i) (*memo)[missing[i]] = std::move(vecs[i]);
    }
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const auto& t : texts) out.push_back(memo->at(t));
    return out;
  };
}

}  // namespace

StageSpec trends_stage() {
  StageSpec s;
  s.name = "trends";
  s.description = "trending terms per period of the dated news corpus (Dunning G^2)";
  s.deps = {"data"};
  s.plan = [](const ConfigTable& t, const ConfigTable&) {
    t.expect_keys({"enabled", "date_field", "window", "top", "min_count", "min_docs", "min_g2"});
    const auto o = trend_options(t);
    StagePlan p;
    p.config = {{"date_field", o.date_field}, {"window", o.window},     {"top", o.top},
                {"min_count", o.min_count},   {"min_docs", o.min_docs}, {"min_g2", o.min_g2}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const fs::path corpus = ctx.input("data") / "news" / "corpus.jsonl";
    if (!fs::exists(corpus)) {
      throw ConfigError(ctx.section().where() +
                        ": [trends] needs a dated corpus: set `data.news` (e.g. "
                        "\"wikinews-ko/wikinews.csv\") or disable [trends]");
    }
    const synonyms::TrendReport r = synonyms::find_trends(corpus, trend_options(ctx.section()));
    detail::write_json(ctx.out_dir() / "trends.json", r.to_json());
    std::size_t terms = 0;
    for (const auto& p : r.periods) terms += p.terms.size();
    ctx.stats = {{"documents", r.documents},
                 {"undated", r.undated},
                 {"periods", r.periods.size()},
                 {"terms", terms}};
  };
  return s;
}

StageSpec synonyms_stage() {
  StageSpec s;
  s.name = "synonyms";
  s.description =
      "Korean-English synonym dictionary (patterns, transliteration, embeddings, seed half); "
      "LLM-verified + unverified";
  s.deps = {"data"};
  s.resources = {"llm"};
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    t.expect_keys({"enabled", "lexicon", "seed_fraction", "seed", "gold_extra", "en_vocab",
                   "min_translit_score", "min_pattern_score", "min_term_count", "min_loanword_prob",
                   "verify", "verify_threshold", "verify_max", "reason_tokens",
                   "discover_max_terms", "embeddings", "embed_max_ko", "embed_max_en",
                   "min_embedding_cosine"});
    StagePlan p;
    const fs::path lexicon = resolve_input_file(t, root, "lexicon");
    p.files.push_back(lexicon);
    const double fraction = t.get("seed_fraction", 0.5);
    if (!(fraction > 0.0 && fraction < 1.0)) {
      throw ConfigError(t.where("seed_fraction") + ": `synonyms.seed_fraction` must be in (0, 1)");
    }
    json extra = json::array();
    if (t.contains("gold_extra")) {
      const fs::path g = resolve_input_file(t, root, "gold_extra");
      extra.push_back(g.string());
      p.files.push_back(g);
    }
    json en_vocab = json::array();
    if (t.contains("en_vocab")) {
      const fs::path g = resolve_input_file(t, root, "en_vocab");
      en_vocab.push_back(g.string());
      p.files.push_back(g);
    }
    const ModelSettings m = model_settings(t, root);
    if (m.verify || m.embeddings) p.files.push_back(detail::llm_model_path(root));
    synonyms::BuildOptions b;
    p.config = {{"lexicon", lexicon.string()},
                {"seed_fraction", fraction},
                {"seed", t.get<std::int64_t>("seed", 13)},
                {"gold_extra", extra},
                {"en_vocab", en_vocab},
                {"min_translit_score", t.get("min_translit_score", b.transliteration.min_score)},
                {"min_pattern_score", t.get("min_pattern_score", b.min_pattern_score)},
                {"min_term_count", t.get<std::size_t>("min_term_count", b.min_term_count)},
                {"min_loanword_prob", t.get("min_loanword_prob", b.min_loanword_probability)},
                {"model", m.to_json(root)}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const json& c = ctx.config();
    const ModelSettings m = model_settings(ctx.section(), ctx.root());
    // Half the lexicon's headwords seed the dictionary; the other half is held-out gold.
    std::vector<synonyms::LexiconPair> seed, held_out;
    synonyms::split_by_headword(synonyms::read_pair_file(c["lexicon"].get<std::string>()),
                                c["seed_fraction"].get<double>(), c["seed"].get<std::uint64_t>(),
                                seed, held_out);
    const fs::path seed_file = ctx.work_dir() / "seed.tsv";
    synonyms::write_pair_file(seed_file, seed);
    synonyms::write_pair_file(ctx.out_dir() / "held_out_gold.tsv", held_out);

    synonyms::BuildOptions b;
    b.corpora.push_back(ctx.input("data") / "korquad" / "corpus.jsonl");
    if (fs::exists(ctx.input("data") / "news" / "corpus.jsonl")) {
      b.corpora.push_back(ctx.input("data") / "news" / "corpus.jsonl");
    }
    b.seeds.push_back(seed_file);
    for (const auto& v : c["en_vocab"]) b.en_vocab.emplace_back(v.get<std::string>());
    b.transliteration.min_score = c["min_translit_score"].get<double>();
    b.min_pattern_score = c["min_pattern_score"].get<double>();
    b.min_term_count = c["min_term_count"].get<std::size_t>();
    b.min_loanword_probability = c["min_loanword_prob"].get<double>();
    m.apply(b);

    synonyms::Gold gold;
    synonyms::add_to_gold(gold, held_out);
    for (const auto& g : c["gold_extra"]) {
      synonyms::add_to_gold(gold, synonyms::read_lexicon(g.get<std::string>()));
    }
    synonyms::EvalOptions eo;
    eo.max_disagreements = 30;

    // Embeddings are computed once: both builds ask for the same terms.
    synonyms::BuildStages stages;
    if (m.embeddings) stages.embed = memoized(detail::make_llama_embed(ctx.root()));

    // The unverified build (the ablation's "embedding-only" arm: patterns, transliteration and
    // embeddings propose, each kept when it passes its source's thresholds). Without LLM
    // verification it is the dictionary used downstream.
    const fs::path unverified_dir =
        m.verify ? ctx.out_dir() / "dict_unverified" : ctx.out_dir() / "dict";
    synonyms::BuildOptions ub = b;
    ub.out_dir = unverified_dir;  // its own manifest (kind "synonyms") lives there
    const synonyms::BuildResult ur = synonyms::build_dictionary(ub, stages);
    synonyms::save_build(ub, ur);
    const synonyms::EvalReport uev = synonyms::evaluate(ur.dictionary, gold, eo);
    detail::write_json(
        m.verify ? ctx.out_dir() / "eval_unverified.json" : ctx.out_dir() / "eval.json",
        uev.to_json());
    ctx.stats = ur.stats.to_json();
    ctx.stats["entries"] = ur.dictionary.size();
    ctx.stats["precision"] = uev.overall.precision;
    ctx.stats["recall"] = uev.overall.recall;
    ctx.stats["verifier"] = "none (synonyms.verify = false)";
    if (m.verify) {
      ctx.stats["unverified"] = {{"entries", ur.dictionary.size()},
                                 {"precision", uev.overall.precision},
                                 {"recall", uev.overall.recall},
                                 {"scored_pairs", uev.overall.scored_pairs},
                                 {"embedding_pairs", ur.stats.embedding_pairs},
                                 {"embedding_seconds", ur.stats.embedding_seconds}};
      // The LLM-verified build: the same candidates plus LLM discovery for trending and frequent
      // terms; only pairs the model accepts with confidence >= verify_threshold enter.
      // Every judgement goes through a generation cache in the stable work dir: a killed run
      // resumes without asking again what was already answered.
      auto& llm = dynamic_cast<detail::LlmResource&>(ctx.resource("llm"));
      synth::GenerationCache cache(ctx.work_dir() / "llm_cache.sqlite");
      synth::CachingBackend cached(llm.backend(), cache, llm.model_id());
      synonyms::LlmVerifierOptions vo;
      vo.reason_tokens = m.reason_tokens;
      synonyms::LlmVerifier verifier(cached, llm.model_id(), vo);
      synonyms::LlmDiscoverer discoverer(cached);
      stages.verifier = &verifier;
      if (m.discover_max_terms > 0) {
        stages.discover = [&discoverer](const std::vector<std::string>& terms) {
          return discoverer.discover(terms);
        };
      }
      synonyms::BuildOptions vb = b;
      vb.out_dir = ctx.out_dir() / "dict";
      const synonyms::BuildResult vr = synonyms::build_dictionary(vb, stages);
      synonyms::save_build(vb, vr);
      const synonyms::EvalReport vev = synonyms::evaluate(vr.dictionary, gold, eo);
      detail::write_json(ctx.out_dir() / "eval.json", vev.to_json());
      json unverified = ctx.stats["unverified"];
      ctx.stats = vr.stats.to_json();
      ctx.stats["unverified"] = unverified;
      ctx.stats["entries"] = vr.dictionary.size();
      ctx.stats["precision"] = vev.overall.precision;
      ctx.stats["recall"] = vev.overall.recall;
      ctx.stats["verifier"] = verifier.name();
      ctx.stats["verify_threshold"] = b.verify_threshold;
      ctx.stats["verify_generate_calls"] = verifier.generate_calls();
      ctx.stats["llm_cache"] = {{"hits", cached.hits()}, {"misses", cached.misses()}};
    }
    ctx.stats["seed_pairs"] = seed.size();
    ctx.stats["held_out_pairs"] = held_out.size();
  };
  return s;
}

}  // namespace ksparse::pipeline
