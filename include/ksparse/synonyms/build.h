// Building the synonym dictionary from corpora and seed files.
//
//   seeds ──────────────────────────────────────────────► Source::kSeed entries (kept as given)
//   corpora ─► parentheticals (patterns.h) ─────────────► candidates (Source::kPattern)
//           └► Korean words x English vocabulary ─► LoanwordClassifier gate ─► transliteration
//                                                                  ► candidates (kTransliteration)
//   candidates ─► CandidateVerifier (optional, batched) ─► accepted get Source::kLlm provenance,
//                                                           rejected are dropped
//
// Without a verifier (--no-llm) every candidate passing its source's thresholds is kept. The
// verifier is the seam for the LLM stage (and for embedding proposals, which enter as candidates
// with Source::kEmbedding): implement CandidateVerifier and pass it to build_dictionary().
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/patterns.h"
#include "ksparse/synonyms/transliteration.h"

namespace ksparse::synonyms {

// A proposed pair awaiting verification.
struct CandidatePair {
  std::string ko;
  std::string en;
  Source source = Source::kPattern;  // who proposed it
  double score = 0.0;                // the proposer's score
  std::string context;               // an example sentence, when the proposer has one
};

struct Verdict {
  bool accepted = false;
  double confidence = 0.0;  // in [0, 1], e.g. P("yes") from the answer token's probability
  std::string reason;       // free text kept as provenance note
};

// Judges candidate pairs. Implementations: the LLM verifier (src/synonyms, later), test fakes.
class CandidateVerifier {
 public:
  virtual ~CandidateVerifier() = default;
  // One verdict per pair, in order. Called with batches of at most BuildOptions::verify_batch
  // pairs; implementations may process a batch in parallel. Throws ksparse::Error on failure.
  virtual std::vector<Verdict> verify(const std::vector<CandidatePair>& pairs) = 0;
  // Short name for manifests and logs ("llama:gemma-3-270m").
  virtual std::string name() const = 0;
};

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
  std::size_t verify_batch = 32;   // pairs per verify() call
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
  std::size_t candidates_verified = 0;
  std::size_t candidates_rejected = 0;
  std::string verifier;  // name, or "" without one
  double seconds = 0.0;
  nlohmann::json to_json() const;
};

struct BuildResult {
  Dictionary dictionary;
  BuildStats stats;
  // Hanja glosses seen by the pattern stage: (ko, hanja, count), recorded but never pairs.
  std::vector<std::tuple<std::string, std::string, std::size_t>> hanja;
};

// Runs the pipeline above. `verifier` may be null (no verification). Throws ConfigError on bad
// options, IoError/DataError on unreadable inputs.
BuildResult build_dictionary(const BuildOptions& options, CandidateVerifier* verifier = nullptr);

// Writes `options.out_dir`: synonyms.json + manifest.json (save_dictionary), synonyms.txt (Solr,
// checked with validate_solr_synonyms: an invalid file throws DataError), nori_userdict.txt and
// hanja_glosses.tsv.
void save_build(const BuildOptions& options, const BuildResult& result);

}  // namespace ksparse::synonyms
