// The retriever seen by synth: query text -> ranked corpus document ids. Round-trip filtering
// (Promptagator) and hard-negative mining use it. BM25 implements it now; the trained sparse
// encoder implements the same interface later.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ksparse/core/analyzer.h"
#include "ksparse/core/io.h"
#include "ksparse/index/inverted_index.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"

namespace ksparse::synth {

class Retriever {
 public:
  virtual ~Retriever() = default;
  // Top-`k` documents per query, best first (results[i] belongs to queries[i]); fewer when fewer
  // documents match. Implementations may be called from one thread at a time.
  virtual std::vector<std::vector<ScoredDoc>> retrieve(const std::vector<std::string>& queries,
                                                       std::size_t k) = 0;
  virtual std::string name() const = 0;
};

// BM25 over an InvertedIndex built by build_bm25_index (analyzer taken from the index metadata).
// Deterministic: ties are broken by internal doc id. Not thread-safe (one Searcher inside).
class Bm25Retriever : public Retriever {
 public:
  // Takes ownership of an index.
  explicit Bm25Retriever(InvertedIndex index);
  Bm25Retriever(const Bm25Retriever&) = delete;  // the Searcher points into index_
  Bm25Retriever& operator=(const Bm25Retriever&) = delete;
  // Builds the index in memory from a BEIR corpus.jsonl (title indexed with the text).
  static std::unique_ptr<Bm25Retriever> from_corpus(const std::filesystem::path& corpus,
                                                    const Bm25IndexOptions& options = quiet());
  std::vector<std::vector<ScoredDoc>> retrieve(const std::vector<std::string>& queries,
                                               std::size_t k) override;
  std::string name() const override { return "bm25"; }
  const InvertedIndex& index() const { return index_; }

 private:
  static Bm25IndexOptions quiet() {
    Bm25IndexOptions o;
    o.show_progress = false;
    return o;
  }
  InvertedIndex index_;
  Analyzer analyzer_;
  Searcher searcher_;
};

}  // namespace ksparse::synth
