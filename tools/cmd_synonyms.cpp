// ksparse synonyms build|eval|validate|split: the Korean-English synonym dictionary.
#include <algorithm>
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
#include "ksparse/synonyms/llm_judge.h"

#ifdef KSPARSE_HAVE_LLAMA
#include "ksparse/llm/embedder.h"
#include "ksparse/llm/llama_backend.h"
#endif

namespace ksparse::cli {

namespace {

struct EvalCliOptions {
  std::filesystem::path dict;
  std::vector<std::filesystem::path> gold;
  bool json = false;
  bool include_seed = false;
  std::size_t max_disagreements = 100;
};

// Model settings of `synonyms build` (LLM verification, discovery, embeddings).
struct BuildModelOptions {
  std::string model;
  bool no_llm = false;
  bool embedding_only = false;
  bool no_embeddings = false;
  bool no_discovery = false;
  int parallel = 8;
  int ctx_per_seq = 256;
  int threads = 0;
  bool cpu_repack = true;
  std::string pooling = "mean";
  int embed_parallel = 32;
  synonyms::LlmVerifierOptions verifier;
  synonyms::LlmDiscoveryOptions discovery;
};

void print_build_summary(const synonyms::BuildOptions& opts, const synonyms::BuildResult& r) {
  const auto& s = r.stats;
  std::printf("entries: %zu (seed %zu, pattern %zu, transliteration %zu, embedding %zu, llm %zu, "
              "discovery %zu)\n",
              r.dictionary.size(), r.dictionary.count_source(synonyms::Source::kSeed),
              r.dictionary.count_source(synonyms::Source::kPattern),
              r.dictionary.count_source(synonyms::Source::kTransliteration),
              r.dictionary.count_source(synonyms::Source::kEmbedding),
              r.dictionary.count_source(synonyms::Source::kLlm),
              r.dictionary.count_source(synonyms::Source::kDiscovery));
  std::printf("documents: %zu, pattern matches: %zu (%zu pairs), hanja glosses: %zu\n",
              s.documents, s.pattern_matches, s.pattern_pairs, s.hanja_glosses);
  std::printf("korean words: %zu, transliterated: %zu, english vocabulary: %zu\n", s.ko_terms,
              s.ko_terms_tried, s.en_vocabulary);
  if (s.embedding_ko_terms > 0) {
    std::printf("embedding: %zu korean x %zu english terms, %zu proposals (%.1f s)\n",
                s.embedding_ko_terms, s.embedding_en_terms, s.embedding_pairs,
                s.embedding_seconds);
  }
  if (s.discovery_terms > 0) {
    std::printf("discovery: %zu terms, %zu proposals (%.1f s)\n", s.discovery_terms,
                s.discovery_pairs, s.discovery_seconds);
  }
  if (!s.verifier.empty()) {
    std::printf("verified: %zu candidates (%zu skipped by --verify-max), %zu rejected, %.1f s "
                "(%.2f pairs/s) by %s\n",
                s.candidates_verified, s.candidates_unverified, s.candidates_rejected,
                s.verify_seconds,
                s.verify_seconds > 0 ? static_cast<double>(s.candidates_verified) / s.verify_seconds
                                     : 0.0,
                s.verifier.c_str());
  }
  std::printf("wrote %s (%.1f s)\n", opts.out_dir.string().c_str(), s.seconds);
}

void run_build(const synonyms::BuildOptions& opts, const BuildModelOptions& m) {
  if (m.no_llm && m.embedding_only) {
    throw ConfigError("--no-llm and --embedding-only exclude each other");
  }
  if (m.no_llm) {
    const synonyms::BuildResult r = synonyms::build_dictionary(opts);
    synonyms::save_build(opts, r);
    print_build_summary(opts, r);
    return;
  }
  if (m.model.empty()) {
    throw ConfigError("synonyms build needs --model M.gguf for embeddings and LLM verification "
                      "(or --no-llm)");
  }
#ifdef KSPARSE_HAVE_LLAMA
  synonyms::BuildStages stages;
  std::unique_ptr<llm::LlamaEmbedder> embedder;
  if (!m.no_embeddings) {
    llm::EmbedderOptions eo;
    eo.model.path = m.model;
    eo.model.cpu_repack = m.cpu_repack;
    eo.pooling = llm::parse_pooling(m.pooling, "--pooling");
    eo.n_parallel = m.embed_parallel;
    eo.max_tokens = 32;
    eo.n_batch = std::max(eo.max_tokens, 8 * m.embed_parallel);
    eo.n_threads = m.threads;
    embedder = std::make_unique<llm::LlamaEmbedder>(eo);
    stages.embed = [&embedder](const std::vector<std::string>& texts) {
      return embedder->embed(texts);
    };
  }
  std::unique_ptr<llm::LlamaBackend> backend;
  std::unique_ptr<synonyms::LlmVerifier> verifier;
  std::unique_ptr<synonyms::LlmDiscoverer> discoverer;
  if (!m.embedding_only) {
    llm::LlamaBackendOptions lo;
    lo.model.path = m.model;
    lo.model.cpu_repack = m.cpu_repack;
    lo.context.n_parallel = m.parallel;
    lo.context.n_ctx = m.ctx_per_seq * m.parallel;
    lo.context.n_threads = m.threads;
    backend = std::make_unique<llm::LlamaBackend>(lo);
    verifier = std::make_unique<synonyms::LlmVerifier>(
        *backend, std::filesystem::path(m.model).stem().string(), m.verifier);
    stages.verifier = verifier.get();
    if (!m.no_discovery) {
      discoverer = std::make_unique<synonyms::LlmDiscoverer>(*backend, m.discovery);
      stages.discover = [&discoverer](const std::vector<std::string>& terms) {
        return discoverer->discover(terms);
      };
    }
  }
  const synonyms::BuildResult r = synonyms::build_dictionary(opts, stages);
  synonyms::save_build(opts, r);
  print_build_summary(opts, r);
#else
  throw ConfigError("this ksparse was built without llama.cpp (KSPARSE_WITH_LLAMA=OFF): use --no-llm");
#endif
}

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
  auto mo = std::make_shared<BuildModelOptions>();
  auto* b = syn->add_subcommand(
      "build", "Build a dictionary from corpora (patterns, transliteration) and seed pairs");
  b->add_option("--corpus", opts->corpora, "BEIR corpus.jsonl (repeatable)");
  b->add_option("--seed", opts->seeds, "seed pairs, ko<TAB>en or MUSE format (repeatable)");
  b->add_option("--en-vocab", opts->en_vocab,
                "lexicon whose English side joins the transliteration vocabulary (repeatable)");
  b->add_option("--out", opts->out_dir, "output directory")->required();
  b->add_option("--model", mo->model, "GGUF model for embeddings, LLM verification and discovery");
  b->add_flag("--no-llm", mo->no_llm,
              "no model: keep every pattern/transliteration candidate passing its thresholds");
  b->add_flag("--embedding-only", mo->embedding_only,
              "embeddings propose, nothing verifies (ablation): keep candidates passing their "
              "thresholds");
  b->add_flag("--no-embeddings", mo->no_embeddings, "skip the embedding proposals");
  b->add_flag("--no-discovery", mo->no_discovery, "skip LLM discovery");
  b->add_option("--verify-threshold", opts->verify_threshold,
                "P(yes) an LLM verdict needs for a pair to enter")
      ->capture_default_str();
  b->add_option("--verify-batch", opts->verify_batch, "pairs per batched verification call")
      ->capture_default_str();
  b->add_option("--verify-max", opts->verify_max,
                "verify at most this many candidates (an even sample; the rest are dropped; 0: all)")
      ->capture_default_str();
  b->add_option("--reason-tokens", mo->verifier.reason_tokens,
                "tokens of the reason generated for accepted pairs (0: none)")
      ->capture_default_str();
  b->add_option("--parallel", mo->parallel, "LLM sequences decoded together")
      ->capture_default_str();
  b->add_option("--ctx-per-seq", mo->ctx_per_seq, "LLM context tokens per sequence")
      ->capture_default_str();
  b->add_option("--threads", mo->threads, "CPU threads (0: all)")->capture_default_str();
  b->add_flag("--cpu-repack,!--no-cpu-repack", mo->cpu_repack,
              "llama.cpp's repacked CPU weight layouts (default on)");
  b->add_option("--pooling", mo->pooling, "embedding pooling: mean|last")->capture_default_str();
  b->add_option("--embed-parallel", mo->embed_parallel, "texts per embedding decode call")
      ->capture_default_str();
  b->add_option("--embed-max-ko", opts->embed_max_ko, "Korean terms embedded (most frequent)")
      ->capture_default_str();
  b->add_option("--embed-max-en", opts->embed_max_en, "English terms embedded (most frequent)")
      ->capture_default_str();
  b->add_option("--embed-top-k", opts->embedding.top_k,
                "English neighbours proposed per Korean term (for verification)")
      ->capture_default_str();
  b->add_option("--min-embedding-cosine", opts->min_embedding_cosine,
                "without LLM: cosine an embedding proposal needs")
      ->capture_default_str();
  b->add_option("--discover-max-terms", opts->discover_max_terms,
                "Korean terms the LLM is asked to translate")
      ->capture_default_str();
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
  b->callback([opts, mo] { run_build(*opts, *mo); });

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
