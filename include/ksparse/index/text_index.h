// Text-level indexing and querying: BEIR corpus -> analyzed BM25 index directory, query text ->
// SparseVector over the index's terms, index hits -> TREC run.
//
// An index directory holds
//   index.ksidx     the InvertedIndex file (its metadata records the analyzer and BM25 options)
//   manifest.json   kind "index": resolved config, input corpus (sha256), output file, stats
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/core/analyzer.h"
#include "ksparse/core/io.h"
#include "ksparse/index/bm25.h"
#include "ksparse/index/inverted_index.h"
#include "ksparse/index/search.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

inline constexpr std::string_view kIndexFileName = "index.ksidx";

struct Bm25IndexOptions {
  AnalyzerOptions analyzer;   // how documents (and later queries) are analyzed
  Bm25Params bm25;            // k1, b used for the precomputed scores
  bool index_title = true;    // analyze "title text" (BEIR title joined with a space) vs text only
  bool show_progress = true;  // progress on stderr while reading the corpus
  void validate() const;      // throws ConfigError
  nlohmann::json to_json() const;
};

// Streams a BEIR corpus.jsonl and builds a BM25 index in memory. Throws DataError/IoError from the
// reader (naming file:line), DataError on an empty corpus.
InvertedIndex build_bm25_index(const std::filesystem::path& corpus,
                               const Bm25IndexOptions& options);

// Writes `dir`/index.ksidx and `dir`/manifest.json (config = options, inputs = the corpus).
void write_index_dir(const std::filesystem::path& dir, const InvertedIndex& index,
                     const Bm25IndexOptions& options, const std::filesystem::path& corpus);

// Opens `dir`/index.ksidx (memory-mapped) and verifies its checksum. Throws IoError with a message
// naming the path and saying how to build an index when the directory or file is missing or the
// file is corrupt or of another format version.
InvertedIndex open_index_dir(const std::filesystem::path& dir);

// The analyzer options recorded in an index built by build_bm25_index. Throws IoError naming the
// index when the metadata has no analyzer (e.g. an impact index built from vectors).
AnalyzerOptions index_analyzer_options(const InvertedIndex& index);

// Bag of words over the index's terms: analyzed terms that the index knows, weight = count.
SparseVector encode_query(const InvertedIndex& index, const Analyzer& analyzer,
                          std::string_view text);

// Hits (per query, same order as `query_ids`) -> run keyed by query id with external doc ids.
// Queries without hits are left out.
Run hits_to_run(const InvertedIndex& index, const std::vector<std::string>& query_ids,
                const std::vector<std::vector<Hit>>& hits);

}  // namespace ksparse
