// Stages `trends` (trending terms of the dated news corpus) and `synonyms` (the Korean-English
// dictionary from the corpora and half of the seed lexicon, scored on the held-out half).
#include "ksparse/core/error.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synonyms/build.h"
#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/evaluate.h"
#include "ksparse/synonyms/lexicon.h"
#include "ksparse/synonyms/trends.h"
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
  s.description = "Korean-English synonym dictionary (patterns, transliteration, seed half)";
  s.deps = {"data"};
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    t.expect_keys({"enabled", "lexicon", "seed_fraction", "seed", "gold_extra", "en_vocab",
                   "min_translit_score", "min_pattern_score", "min_term_count",
                   "min_loanword_prob"});
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
    synonyms::BuildOptions b;
    p.config = {{"lexicon", lexicon.string()},
                {"seed_fraction", fraction},
                {"seed", t.get<std::int64_t>("seed", 13)},
                {"gold_extra", extra},
                {"en_vocab", en_vocab},
                {"min_translit_score", t.get("min_translit_score", b.transliteration.min_score)},
                {"min_pattern_score", t.get("min_pattern_score", b.min_pattern_score)},
                {"min_term_count", t.get<std::size_t>("min_term_count", b.min_term_count)},
                {"min_loanword_prob", t.get("min_loanword_prob", b.min_loanword_probability)}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    const json& c = ctx.config();
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
    b.out_dir = ctx.out_dir() / "dict";  // its own manifest (kind "synonyms") lives there
    const synonyms::BuildResult r = synonyms::build_dictionary(b, synonyms::BuildStages{});
    synonyms::save_build(b, r);

    synonyms::Gold gold;
    synonyms::add_to_gold(gold, held_out);
    for (const auto& g : c["gold_extra"]) {
      synonyms::add_to_gold(gold, synonyms::read_lexicon(g.get<std::string>()));
    }
    synonyms::EvalOptions eo;
    eo.max_disagreements = 30;
    const synonyms::EvalReport ev = synonyms::evaluate(r.dictionary, gold, eo);
    detail::write_json(ctx.out_dir() / "eval.json", ev.to_json());
    ctx.stats = r.stats.to_json();
    ctx.stats["entries"] = r.dictionary.size();
    ctx.stats["seed_pairs"] = seed.size();
    ctx.stats["held_out_pairs"] = held_out.size();
    ctx.stats["precision"] = ev.overall.precision;
    ctx.stats["recall"] = ev.overall.recall;
    ctx.stats["verifier"] = "none (LLM verification not wired)";
  };
  return s;
}

}  // namespace ksparse::pipeline
