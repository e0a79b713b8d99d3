// ksparse synonyms build|eval|validate|split: the Korean-English synonym dictionary.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/synonyms/build.h"
#include "ksparse/synonyms/evaluate.h"
#include "ksparse/synonyms/export.h"
#include "ksparse/synonyms/lexicon.h"

namespace ksparse::cli {

namespace {

struct EvalCliOptions {
  std::filesystem::path dict;
  std::vector<std::filesystem::path> gold;
  bool json = false;
  bool include_seed = false;
  std::size_t max_disagreements = 100;
};

void print_eval_text(const synonyms::EvalReport& r) {
  std::printf("entries: %zu (seed %zu)\n", r.entries, r.seed_entries);
  std::printf("%-16s %8s %8s %8s %9s %8s %8s\n", "source", "entries", "scored", "correct",
              "precision", "recall", "heads");
  auto row = [](const std::string& name, const synonyms::EvalScores& s) {
    std::printf("%-16s %8zu %8zu %8zu %9.4f %8.4f %8zu\n", name.c_str(), s.entries, s.scored_pairs,
                s.correct_pairs, s.precision, s.recall, s.scored_headwords);
  };
  for (const auto& [name, s] : r.by_source) row(name, s);
  row("overall", r.overall);
  std::printf("disagreements: %zu\n", r.disagreement_count);
  for (const auto& d : r.disagreements) {
    std::string gold;
    for (const auto& g : d.gold) gold += (gold.empty() ? "" : ", ") + g;
    std::printf("  %s -> %s (%.3f) gold: %s\n", d.ko.c_str(), d.en.c_str(), d.score, gold.c_str());
  }
}

}  // namespace

void add_synonyms_commands(CLI::App& app) {
  auto* syn = app.add_subcommand("synonyms", "Korean-English synonym dictionary");
  syn->require_subcommand(1);

  // build
  auto opts = std::make_shared<synonyms::BuildOptions>();
  auto no_llm = std::make_shared<bool>(false);
  auto model = std::make_shared<std::string>();
  auto* b = syn->add_subcommand(
      "build", "Build a dictionary from corpora (patterns, transliteration) and seed pairs");
  b->add_option("--corpus", opts->corpora, "BEIR corpus.jsonl (repeatable)");
  b->add_option("--seed", opts->seeds, "seed pairs, ko<TAB>en or MUSE format (repeatable)");
  b->add_option("--en-vocab", opts->en_vocab,
                "lexicon whose English side joins the transliteration vocabulary (repeatable)");
  b->add_option("--out", opts->out_dir, "output directory")->required();
  b->add_option("--model", *model, "GGUF model for LLM verification (not available yet)");
  b->add_flag("--no-llm", *no_llm, "keep every candidate that passes its source's thresholds");
  b->add_option("--min-translit-score", opts->transliteration.min_score,
                "transliteration similarity needed")
      ->capture_default_str();
  b->add_option("--translit-top-k", opts->transliteration.top_k,
                "English matches kept per Korean word")
      ->capture_default_str();
  b->add_option("--min-loanword-prob", opts->min_loanword_probability,
                "loanword classifier probability needed to transliterate a word")
      ->capture_default_str();
  b->add_option("--min-term-count", opts->min_term_count,
                "corpus occurrences a Korean word needs to be transliterated")
      ->capture_default_str();
  b->add_option("--min-pattern-count", opts->patterns.min_count,
                "occurrences a parenthetical pair needs")
      ->capture_default_str();
  b->add_option("--min-pattern-score", opts->min_pattern_score,
                "without LLM: parenthetical pairs scoring lower are dropped")
      ->capture_default_str();
  b->add_flag("!--no-acronyms", opts->patterns.keep_acronyms,
              "drop all-caps parenthetical glosses such as 유럽연합(EU)");
  b->callback([opts, no_llm, model] {
    if (!*no_llm) {
      throw ConfigError("LLM verification is not wired into `synonyms build` yet; pass --no-llm" +
                        std::string(model->empty() ? "" : " (--model is ignored)"));
    }
    const synonyms::BuildResult r = synonyms::build_dictionary(*opts);
    synonyms::save_build(*opts, r);
    const auto& s = r.stats;
    std::printf("entries: %zu (seed %zu, pattern %zu, transliteration %zu)\n", r.dictionary.size(),
                r.dictionary.count_source(synonyms::Source::kSeed),
                r.dictionary.count_source(synonyms::Source::kPattern),
                r.dictionary.count_source(synonyms::Source::kTransliteration));
    std::printf("documents: %zu, pattern matches: %zu (%zu pairs), hanja glosses: %zu\n",
                s.documents, s.pattern_matches, s.pattern_pairs, s.hanja_glosses);
    std::printf("korean words: %zu, transliterated: %zu, english vocabulary: %zu\n", s.ko_terms,
                s.ko_terms_tried, s.en_vocabulary);
    std::printf("wrote %s (%.1f s)\n", opts->out_dir.string().c_str(), s.seconds);
  });

  // eval
  auto ev = std::make_shared<EvalCliOptions>();
  auto* e = syn->add_subcommand("eval", "Precision/recall against gold lists (MUSE, Wiktionary)");
  e->add_option("--dict", ev->dict, "dictionary directory (synonyms build --out)")->required();
  e->add_option("--gold", ev->gold, "gold list(s): MUSE/TSV pairs or Wiktionary en-ko (union)")
      ->required();
  e->add_flag("--json", ev->json, "print the report as JSON");
  e->add_flag("--include-seed", ev->include_seed,
              "also score Korean headwords that have seed entries");
  e->add_option("--max-disagreements", ev->max_disagreements, "disagreements listed")
      ->capture_default_str();
  e->callback([ev] {
    const synonyms::Dictionary dict = synonyms::load_dictionary(ev->dict);
    synonyms::Gold gold;
    for (const auto& g : ev->gold) synonyms::add_to_gold(gold, synonyms::read_lexicon(g));
    synonyms::EvalOptions o;
    o.include_seed = ev->include_seed;
    o.max_disagreements = ev->max_disagreements;
    const synonyms::EvalReport r = synonyms::evaluate(dict, gold, o);
    if (ev->json) {
      std::printf("%s\n", r.to_json().dump(2).c_str());
    } else {
      print_eval_text(r);
    }
  });

  // validate
  auto file = std::make_shared<std::filesystem::path>();
  auto* v = syn->add_subcommand("validate", "Check a Solr/OpenSearch synonym file");
  v->add_option("file", *file, "synonym file")->required();
  v->callback([file] {
    const synonyms::SynonymValidation r = synonyms::validate_solr_synonyms_file(*file);
    for (const auto& i : r.issues) {
      std::printf("%s:%zu: %s: %s\n", file->string().c_str(), i.line, i.error ? "error" : "warning",
                  i.message.c_str());
    }
    std::printf("rules: %zu (equivalence %zu, explicit %zu), terms: %zu (multi-word %zu)\n",
                r.rules, r.equivalence_rules, r.explicit_rules, r.terms, r.multiword_terms);
    if (!r.ok()) {
      throw DataError(file->string() + ": " + std::to_string(r.errors()) +
                      " error(s) in the synonym file");
    }
  });

  // split
  struct SplitOptions {
    std::filesystem::path in, first, second;
    double fraction = 0.5;
    std::uint64_t seed = 13;
  };
  auto sp = std::make_shared<SplitOptions>();
  auto* s = syn->add_subcommand(
      "split", "Split a pair file by Korean headword (e.g. MUSE into seed and held-out gold)");
  s->add_option("--in", sp->in, "pair file")->required();
  s->add_option("--first-out", sp->first, "pairs of the first part (e.g. seed)")->required();
  s->add_option("--second-out", sp->second, "pairs of the rest (e.g. held-out gold)")->required();
  s->add_option("--fraction", sp->fraction, "share of headwords in the first part")
      ->capture_default_str();
  s->add_option("--seed", sp->seed, "split seed")->capture_default_str();
  s->callback([sp] {
    std::vector<synonyms::LexiconPair> a, b2;
    synonyms::split_by_headword(synonyms::read_pair_file(sp->in), sp->fraction, sp->seed, a, b2);
    synonyms::write_pair_file(sp->first, a);
    synonyms::write_pair_file(sp->second, b2);
    std::printf("first: %zu pairs -> %s\nsecond: %zu pairs -> %s\n", a.size(),
                sp->first.string().c_str(), b2.size(), sp->second.string().c_str());
  });
}

}  // namespace ksparse::cli
