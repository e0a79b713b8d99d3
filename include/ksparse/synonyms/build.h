// Building the synonym dictionary from corpora and seed files.
//
//   seeds ──────────────────────────────────────────────► Source::kSeed entries (kept as given)
//   corpora ─► parentheticals (patterns.h) ─────────────► candidates (Source::kPattern)
//           ├► Korean words x English vocabulary ─► LoanwordClassifier gate ─► transliteration
//           │                                                      ► candidates (kTransliteration)
//           ├► frequent Korean words without an entry x English vocabulary ─► embed function
//           │    ─► cross-lingual nearest neighbours (embedding_candidates.h) ► candidates
//           │                                                                  (kEmbedding)
//           └► trending / frequent Korean words still without a candidate ─► discover function
//                (LLM, JSON-constrained; llm_judge.h) ─► candidates (kDiscovery)
//   candidates ─► CandidateVerifier (optional, batched) ─► accepted get Source::kLlm provenance,
//                                                           rejected are dropped
//
// Without a verifier (--no-llm, --embedding-only) every candidate passing its source's thresholds
// is kept (embedding proposals: the best neighbour with cosine >= min_embedding_cosine);
// discovered pairs are never kept unverified. With a verifier only verified pairs enter.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "ksparse/synonyms/candidate.h"
#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/embedding_candidates.h"
#include "ksparse/synonyms/patterns.h"
#include "ksparse/synonyms/transliteration.h"

namespace ksparse::synonyms {

struct BuildOptions {
  std::vector<std::filesystem::path> corpora;   // BEIR corpus.jsonl files
  std::vector<std::filesystem::path> seeds;     // pair files (ko<TAB>en / MUSE)
  std::vector<std::filesystem::path> en_vocab;  // lexicons (pair or Wiktionary format) whose
                                                // English sides join the transliteration vocabulary
  std::filesystem::path out_dir;                // where save_build() writes
  PatternOptions patterns;
  // Transliteration: stricter than the matcher's defaults, for precision without a verifier.
  TransliterationOptions transliteration{.min_score = 0.85, .top_k = 1, .blocking = true};
  bool use_patterns = true;
  bool use_transliteration = true;
  // Korean corpus words need this many occurrences to be transliterated (pattern Korean sides are
  // always tried).
  std::size_t min_term_count = 2;
  // Gate: LoanwordClassifier (trained on the seed pairs) probability needed to transliterate a
  // word. Without seed pairs the classifier is untrained and the gate is off.
  double min_loanword_probability = 0.8;
  // Without a verifier, pattern pairs scoring lower are dropped (see PatternAggregator: a single
  // lowercase gloss scores 0.5, a single acronym 0.25, a single name/title 0.15). With a verifier
  // every pattern pair is verified.
  double min_pattern_score = 0.3;
  double verify_threshold = 0.8;   // verdicts need accepted && confidence >= this
  std::size_t verify_batch = 256;  // pairs per verify() call (one batched generate each)
  // Verification budget: at most this many candidates are verified, an even stride through the
  // (ko, en)-sorted candidates; the others are dropped (0 = verify all).
  std::size_t verify_max = 0;
  // Embedding stage (runs when BuildStages::embed is set). Korean side: the most frequent corpus
  // words (>= min_term_count occurrences) with no seed entry and no candidate yet; English side:
  // single-word (letters only, >= 3) English vocabulary terms, most frequent first.
  EmbeddingOptions embedding;
  std::size_t embed_max_ko = 1000;
  std::size_t embed_max_en = 8000;
  // Without a verifier, embedding proposals need this cosine (centred vectors) and rank 1.
  double min_embedding_cosine = 0.5;
  // Discovery (runs when BuildStages::discover is set): trending terms (trends.h over dated
  // corpora, `discover_trend_top` per period) first, then the most frequent Korean words, that
  // have no entry and no candidate; at most this many terms.
  std::size_t discover_max_terms = 100;
  std::size_t discover_trend_top = 20;
  void validate() const;           // throws ConfigError
  nlohmann::json to_json() const;  // resolved settings for the manifest
};

struct BuildStats {
  std::size_t documents = 0;
  std::size_t seed_pairs = 0;
  std::size_t pattern_matches = 0;
  std::size_t pattern_pairs = 0;
  std::map<std::string, std::size_t> pattern_rejected;
  std::size_t pattern_dropped = 0;  // below min_pattern_score (no verifier)
  std::size_t hanja_glosses = 0;
  std::size_t ko_terms = 0;        // distinct Korean corpus words
  std::size_t ko_terms_tried = 0;  // passed count and loanword gates
  std::size_t en_vocabulary = 0;
  std::size_t loanword_train_loan = 0;
  std::size_t loanword_train_native = 0;
  std::size_t transliteration_pairs = 0;
  std::size_t embedding_ko_terms = 0;  // Korean terms embedded
  std::size_t embedding_en_terms = 0;  // English terms embedded
  std::size_t embedding_pairs = 0;     // proposals
  double embedding_seconds = 0.0;
  std::size_t discovery_terms = 0;  // Korean terms asked about
  std::size_t discovery_pairs = 0;  // proposals parsed from the answers
  double discovery_seconds = 0.0;
  std::size_t candidates_verified = 0;
  std::size_t candidates_rejected = 0;
  std::size_t candidates_unverified = 0;  // skipped by verify_max (dropped)
  double verify_seconds = 0.0;  // wall time inside verify() calls
  std::string verifier;         // name, or "" without one
  double seconds = 0.0;
  nlohmann::json to_json() const;
};

struct BuildResult {
  Dictionary dictionary;
  BuildStats stats;
  // Hanja glosses seen by the pattern stage: (ko, hanja, count), recorded but never pairs.
  std::vector<std::tuple<std::string, std::string, std::size_t>> hanja;
  // Every verified candidate with its verdict (accepted or not), in verification order.
  struct Verified {
    CandidatePair pair;                // best proposer's source and score
    std::vector<std::string> sources;  // every proposer
    Verdict verdict;
  };
  std::vector<Verified> verified;
};

// The optional model-backed stages of a build.
struct BuildStages {
  CandidateVerifier* verifier = nullptr;  // null: no verification
  EmbedFn embed;                          // empty: no embedding proposals
  // Korean terms -> proposed pairs (e.g. LlmDiscoverer::discover); empty: no discovery. Its
  // proposals are only used with a verifier.
  std::function<std::vector<CandidatePair>(const std::vector<std::string>&)> discover;
};

// Runs the pipeline above. Throws ConfigError on bad options, IoError/DataError on unreadable
// inputs, and whatever the stages throw.
BuildResult build_dictionary(const BuildOptions& options, const BuildStages& stages);
// Same with only a verifier (may be null).
BuildResult build_dictionary(const BuildOptions& options, CandidateVerifier* verifier = nullptr);

// Writes `options.out_dir`: synonyms.json + manifest.json (save_dictionary), synonyms.txt (Solr,
// checked with validate_solr_synonyms: an invalid file throws DataError), nori_userdict.txt,
// hanja_glosses.tsv and verdicts.jsonl (one line per verified candidate: ko, en, source,
// sources, score, accepted, confidence, reason; empty without a verifier).
void save_build(const BuildOptions& options, const BuildResult& result);

}  // namespace ksparse::synonyms
