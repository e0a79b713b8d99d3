// Helpers shared by the workflow stages (private to src/pipeline).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ksparse/core/config.h"
#include "ksparse/core/io.h"
#include "ksparse/eval/metrics.h"
#include "ksparse/index/inverted_index.h"

namespace ksparse::pipeline::detail {

// Writes pretty JSON (creating parent dirs); IoError on failure.
void write_json(const std::filesystem::path& path, const nlohmann::json& j);
// Reads JSON; IoError naming the file when missing or malformed.
nlohmann::json read_json(const std::filesystem::path& path);

// The stage's metrics list (`metrics` key, default "ndcg@10,mrr@10,recall@100").
std::vector<Metric> metrics_from(const ConfigTable& section);
std::string metrics_string(const std::vector<Metric>& metrics);

// Evaluates `run` against `qrels` and writes `dir`/run.trec, metrics.json ({mean: {name: v},
// queries, missing_from_run}) and per_query.json ({name: {qid: v}}). Returns the result.
EvalResult evaluate_and_write(const std::filesystem::path& dir, const Qrels& qrels, const Run& run,
                              const std::vector<Metric>& metrics, const std::string& tag);

// Reads a file written by evaluate_and_write: per-query values of `metric` keyed by query id.
std::map<std::string, double> read_per_query(const std::filesystem::path& dir,
                                             const std::string& metric);

// Top-k search of prepared query vectors (vectors[i] is query ids[i]) as a run.
Run search_run(const InvertedIndex& index, const std::vector<std::string>& ids,
               const std::vector<SparseVector>& vectors, std::size_t k, unsigned threads);
// BM25: each query's text through the index's own analyzer, then search_run.
Run bm25_run(const InvertedIndex& index, const std::vector<Query>& queries, std::size_t k,
             unsigned threads);

// Top-level `threads` (0 = all hardware threads).
unsigned threads_from(const ConfigTable& root);

}  // namespace ksparse::pipeline::detail
