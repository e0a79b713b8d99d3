// IndexBuilder: accumulates documents in memory and serialises an InvertedIndex image.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ksparse/index/bm25.h"
#include "ksparse/index/inverted_index.h"
#include "ksparse/index/sparse_vector.h"
#include "ksparse/index/term_dictionary.h"

namespace ksparse {

// Not thread-safe. Memory: about 8 bytes per posting plus the dictionary, then the image.
class IndexBuilder {
 public:
  // `bm25` is used (and validated) only for IndexType::kBm25.
  explicit IndexBuilder(IndexType type, Bm25Params bm25 = {});

  // The dictionary that term ids passed to add() refer to. Final index term ids differ (they are
  // ranks in sorted order); look terms up with InvertedIndex::find_term.
  TermDictionary& dictionary() { return dictionary_; }

  // Adds the next document (doc ids are assigned 0, 1, 2, ... in call order) and returns its id.
  // `weights` maps dictionary term ids to term frequencies (kBm25: positive counts) or impacts
  // (kImpact: positive). `length` is the document length in tokens used by BM25 normalisation
  // (kBm25 requires length >= sum of term frequencies). Throws DataError on a duplicate or empty
  // doc id, an unknown term id or a non-positive weight.
  DocId add(std::string_view doc_id, const SparseVector& weights, std::uint32_t length);
  // BM25 convenience: term frequencies and length from a token sequence.
  DocId add_tokens(std::string_view doc_id, const std::vector<std::string>& tokens);

  // Stored verbatim in the index (InvertedIndex::metadata()).
  void set_metadata(nlohmann::json metadata) { metadata_ = std::move(metadata); }
  std::size_t num_docs() const { return doc_lengths_.size(); }

  // Computes scores and block maxima and returns the serialised image; the builder is left empty.
  std::vector<std::byte> finish();
  // finish() + InvertedIndex::from_image.
  InvertedIndex build(std::string name = "<memory>");

 private:
  struct Posting {
    DocId doc;
    float value;  // tf (kBm25) or impact (kImpact)
  };
  IndexType type_;
  Bm25Params bm25_;
  TermDictionary dictionary_;
  std::vector<std::vector<Posting>> postings_;  // by dictionary term id
  std::vector<std::uint32_t> doc_lengths_;
  std::vector<std::string> doc_ids_;
  std::unordered_set<std::string> seen_doc_ids_;
  nlohmann::json metadata_ = nlohmann::json::object();
};

}  // namespace ksparse
