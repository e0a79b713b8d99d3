// Mixing synthetic with real training triples, the real-only validation split, and the dataset
// report (funnel, query length histograms, random examples) as JSON and Markdown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "ksparse/core/io.h"
#include "ksparse/synth/triples.h"

namespace ksparse::synth {

// Real triples from BEIR queries + qrels: one triple per (query, document with grade > 0), in
// query file order then doc id order; query_id = the BEIR query id. Qrels of unknown queries are
// ignored (check_qrels_ids is the place to catch them).
std::vector<Triple> triples_from_beir(const std::vector<Query>& queries, const Qrels& qrels);

struct MergeOptions {
  // Synthetic triples per real training triple: 1 = 1:1, 0.5 = 1:2, 0 = real only. When there are
  // fewer synthetic triples than asked for, all are used and the shortfall is reported.
  double synthetic_per_real = 1.0;
  // Share of real query ids held out for validation (0 <= x < 1). All triples of one query id go
  // to the same side. Validation is real-only, always.
  double validation_fraction = 0.1;
  // Drop synthetic triples whose positive is a validation positive (their queries were generated
  // from the very passages validation asks for, which would leak them into training).
  bool exclude_validation_docs = true;
  std::uint64_t seed = 0;
  void validate() const;  // ConfigError for a negative ratio or a fraction outside [0, 1)
  nlohmann::json to_json() const;
};

struct MergeResult {
  std::vector<Triple> train;       // real training triples + chosen synthetic, shuffled (seeded)
  std::vector<Triple> validation;  // real only, in input order
  nlohmann::json stats;            // counts: real_train, real_validation, synthetic_available,
                                   // synthetic_excluded_leak, synthetic_used, synthetic_wanted
};

// Deterministic for a given seed: which queries are held out, which synthetic triples are used and
// the training order depend only on ids, the seed and the inputs (not on input order).
// ConfigError when a synthetic triple is in `real` or vice versa (the `source` field decides).
MergeResult merge_triples(const std::vector<Triple>& real, const std::vector<Triple>& synthetic,
                          const MergeOptions& options);

struct ReportOptions {
  std::size_t examples = 20;  // random synthetic examples (real ones when there is no synthetic)
  std::uint64_t seed = 0;
  std::size_t passage_chars = 160;  // passage excerpt length in examples (code points)
};

// {"counts": {"total", "real", "synthetic", "by_style": {...}},
//  "query_chars": {"real": H, "synthetic": H}, "query_tokens": {...},   H = {"edges", "counts",
//  "mean", "median"} with bins [edges[i], edges[i+1]) and the last bin open,
//  "funnel": <as given, or null>, "examples": [{query, positive_id, style, logprob, passage}]}
// `corpus` (optional, may be null) supplies passage excerpts for the examples.
nlohmann::json dataset_report(const std::vector<Triple>& triples, const nlohmann::json& funnel,
                              const std::unordered_map<std::string, Document>* corpus,
                              const ReportOptions& options = {});
// The same report as Markdown (tables for the funnel and histograms, a list of examples).
std::string report_markdown(const nlohmann::json& report);

// Writes `dir`/train.jsonl, valid.jsonl, stats.json, stats.md and manifest.json (kind
// "synth-merge").
void write_merge(const std::filesystem::path& dir, const MergeResult& result,
                 const nlohmann::json& report, const nlohmann::json& config,
                 const std::vector<std::filesystem::path>& inputs);

}  // namespace ksparse::synth
