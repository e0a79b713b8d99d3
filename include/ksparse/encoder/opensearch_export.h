// OpenSearch export of a sparse encoder: what `ksparse export` writes and the `export` stage of
// `ksparse run` puts into its artifact.
//
// OUT/ (created; existing files of the same names are overwritten)
//   model/              the Hugging Face folder (SparseEncoder::save: config.json,
//                       model.safetensors, tokenizer files, idf.json) to register with OpenSearch
//   bulk.jsonl          POST _bulk body: an action line then {title, text, <field>: rank_features}
//                       per document, weights > 0 only
//   mapping.json        index settings + mapping (<field> is `rank_features`)
//   query_example.json  a `neural_sparse` query with `query_tokens` (IDF weights in doc-only mode)
//   README.md           the curl commands
//   manifest.json       kind "opensearch_export": config, corpus input, outputs, stats
// Tokens containing '.' are dropped from rank_features (OpenSearch reads dots as object paths);
// the count is in the stats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "ksparse/encoder/sparse_index.h"

namespace ksparse {

struct OpenSearchExportOptions {
  std::string index_name = "ksparse-neural-sparse";  // OpenSearch index name
  std::string field = "passage_embedding";           // rank_features field name
  SparseIndexOptions index;   // encode options (pruning, batch size) and title handling
  std::string example_query;  // query of query_example.json; empty = the first document's title
                              // (or its first 60 bytes of text when untitled)
  bool show_progress = false; // progress on stderr
  void validate() const;      // throws ConfigError
};

struct OpenSearchExportResult {
  std::size_t documents = 0;
  std::uint64_t features = 0;          // rank_features entries written over all documents
  std::size_t dropped_dot_features = 0;
  std::string example_query;           // the query actually used
  nlohmann::json to_json() const;
};

// Encodes `corpus` (BEIR corpus.jsonl) with the model at `model_dir` and writes `out_dir` (see
// above). Throws IoError / DataError / ModelError naming the file.
OpenSearchExportResult export_opensearch(const std::filesystem::path& model_dir,
                                         const std::filesystem::path& corpus,
                                         const std::filesystem::path& out_dir,
                                         const OpenSearchExportOptions& options = {});

}  // namespace ksparse
