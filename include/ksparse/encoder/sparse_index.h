// Learned sparse vectors -> the foundation's impact index, and queries against it.
//
// An impact index built here has one term per WordPiece token string (so it does not depend on
// vocabulary ids) and stores each document's learned weights as posting scores; a query's score is
// sum over its tokens of query weight x document weight (the neural-sparse dot product). Its
// metadata records {"kind": "sparse_encoder", "encoder": {settings, config}, "index_title": ...}.
//
// An index directory written by write_sparse_index_dir holds index.ksidx and manifest.json (kind
// "index", config = encode options + the model directory, inputs = corpus and model files).
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "ksparse/core/io.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/index/inverted_index.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

struct SparseIndexOptions {
  DocumentEncodeOptions encode;  // batch size, max length, top-k / threshold pruning
  bool index_title = true;       // encode "title text" vs text only (as the BM25 index does)
  std::size_t chunk = 1024;      // documents encoded per call while streaming a corpus (>= 1)
  void validate() const;         // throws ConfigError
  nlohmann::json to_json() const;
};

// The text a document is encoded from: "title text" (title omitted when empty) or text only.
std::string sparse_index_text(const Document& doc, bool index_title);

// Encodes `docs` and builds an impact index (doc ids in input order). Documents whose vector is
// empty after pruning are still added (they can never be retrieved). Throws DataError on duplicate
// doc ids.
InvertedIndex build_impact_index(const SparseEncoder& encoder, const std::vector<Document>& docs,
                                 const SparseIndexOptions& options = {});
// Streams a BEIR corpus.jsonl (chunk by chunk) into an impact index.
InvertedIndex build_impact_index(const SparseEncoder& encoder, const std::filesystem::path& corpus,
                                 const SparseIndexOptions& options = {});

// Writes `dir`/index.ksidx and manifest.json (see above).
void write_sparse_index_dir(const std::filesystem::path& dir, const InvertedIndex& index,
                            const SparseIndexOptions& options,
                            const std::filesystem::path& model_dir,
                            const std::filesystem::path& corpus);

// The encoder's query vector (SparseEncoder::query_weights) mapped onto the index's term ids;
// tokens the index does not know are dropped (they match no document).
SparseVector index_query(const InvertedIndex& index, const SparseEncoder& encoder,
                         std::string_view text);

// Sets libtorch's intra-op thread count for encoding/training (torch::set_num_threads);
// 0 = std::thread::hardware_concurrency(). Process-wide.
void set_encoder_threads(int threads);

// True when `index` was built by build_impact_index (metadata kind "sparse_encoder").
bool is_sparse_encoder_index(const InvertedIndex& index);

}  // namespace ksparse
