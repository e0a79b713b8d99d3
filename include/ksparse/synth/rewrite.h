// Text -> text generation for synthetic data beyond doc -> query, through the same machinery as
// `synth queries` (prompt templates, batched Backend::generate, the resumable GenerationCache, the
// filter funnel):
//   - pseudo-documents: query -> a passage that answers it (for queries without a passage);
//   - paraphrases: query -> the same information need in other words (real or synthetic queries);
//   - near-miss negatives: (query, positive passage) -> a passage on the same topic that does not
//     answer the query.
// Plus dictionary variants of queries (Korean <-> English key terms) that need no LLM.
//
// Each input is a RewriteItem; it becomes a Document {id, "", source} for the PromptBuilder, so the
// prompt's {document} is the source text and {query} (when the template uses it) the item's query.
// The generated text is the Candidate's `query` and the source text its `doc_text`, so the
// standard filters read naturally: `copy` rejects an output that repeats its source, `length`,
// `script`, `logprob`, the duplicate filters and `round_trip` (against the item's target
// document) apply unchanged.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ksparse/llm/backend.h"
#include "ksparse/synth/cache.h"
#include "ksparse/synth/filters.h"
#include "ksparse/synth/generate.h"
#include "ksparse/synth/prompt.h"
#include "ksparse/synth/triples.h"

namespace ksparse::synth {

struct RewriteItem {
  std::string id;         // unique per item: the cache key's document id
  std::string source;     // text the template's {document} receives
  std::string query;      // text the template's {query} receives ("" when unused)
  std::string target_id;  // corpus id the round-trip filter looks for ("" = id)
};

struct RewriteResult {
  std::vector<SynthCandidate> candidates;  // candidate.doc_id = the item's target id
  std::vector<std::size_t> item_of;        // candidate index -> item index
  FunnelResult funnel;
  GenerationStats stats;
};

// Generates options.per_doc outputs per item (batched, cached, resumable; the cache key uses the
// item id as the document id) and runs the candidates through `funnel`.
RewriteResult run_rewrite(const std::vector<RewriteItem>& items,
                          const std::vector<PromptBuilder>& builders, llm::Backend& backend,
                          GenerationCache& cache, Funnel& funnel,
                          const QueryGenerationOptions& options);

// Provenance of candidate `i` of `r` (model, template, log-prob, style, filter verdicts).
Provenance rewrite_provenance(const RewriteResult& r, std::size_t i,
                              const std::vector<PromptBuilder>& builders,
                              const QueryGenerationOptions& options);

// --- filters specific to rewrites ---

// Pseudo-documents must be about the query: at least `min_share` of the query's analyzer terms
// (bigrams + head unigrams) occur in the generated text (c.query), whose source (c.doc_text) is
// the query.
struct TermOverlapFilterOptions {
  double min_share = 0.3;
  AnalyzerOptions analyzer;
  void validate() const;  // min_share in [0, 1]
};

class TermOverlapFilter : public Filter {
 public:
  explicit TermOverlapFilter(TermOverlapFilterOptions options = {});
  std::string name() const override { return "term_overlap"; }
  std::optional<std::string> check(const Candidate& c) override;

 private:
  TermOverlapFilterOptions options_;
  Analyzer analyzer_;
};

// The funnel for pseudo-documents and near-miss passages: structure, length (passage bounds),
// script, copy (the output repeats its source), logprob, exact_duplicate, near_duplicate, plus
// term_overlap when `overlap` is non-null.
Funnel make_passage_funnel(const FilterOptions& options, const TermOverlapFilterOptions* overlap);

// Passage length bounds: 30..2000 code points, 8..1024 analyzer terms.
LengthFilterOptions passage_length_options();
// Passage repetition: no per-word bound (particles recur); reject a text of >= 20 bigrams whose
// distinct character bigrams are under 30% of them (a generation stuck in a loop).
RepetitionFilterOptions passage_repetition_options();

// --- dictionary variants ---

// Korean <-> English term pairs (normalised forms), from synonyms.json (synonyms/dictionary.h's
// on-disk format: {"format_version": 1, "entries": [{"ko", "en", "score", ...}]}), entries with
// score >= min_score. DataError naming the file on a malformed document.
std::vector<std::pair<std::string, std::string>> read_synonym_pairs(
    const std::filesystem::path& path, double min_score = 0.0);

// Variants of `query` with one dictionary term swapped for its counterpart: each Korean term that
// starts a whitespace-separated word of the query (a particle may follow: "데이터를" ->
// "data를") becomes its English term, and each English word equal (case-insensitively) to an
// English term becomes its Korean term. One variant per (position, pair), in query order, at most
// `max_variants`, without repeats and never the query itself.
std::vector<std::string> dictionary_variants(
    const std::string& query, const std::vector<std::pair<std::string, std::string>>& pairs,
    std::size_t max_variants = 3);

}  // namespace ksparse::synth
