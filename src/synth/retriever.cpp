#include "ksparse/synth/retriever.h"

#include <utility>

namespace ksparse::synth {

Bm25Retriever::Bm25Retriever(InvertedIndex index)
    : index_(std::move(index)), analyzer_(index_analyzer_options(index_)), searcher_(index_) {}

std::unique_ptr<Bm25Retriever> Bm25Retriever::from_corpus(const std::filesystem::path& corpus,
                                                          const Bm25IndexOptions& options) {
  return std::make_unique<Bm25Retriever>(build_bm25_index(corpus, options));
}

std::vector<std::vector<ScoredDoc>> Bm25Retriever::retrieve(const std::vector<std::string>& queries,
                                                            std::size_t k) {
  SearchOptions options;
  options.k = k;
  std::vector<std::vector<ScoredDoc>> out;
  out.reserve(queries.size());
  for (const std::string& q : queries) {
    std::vector<ScoredDoc>& docs = out.emplace_back();
    const SparseVector vec = encode_query(index_, analyzer_, q);
    if (vec.empty()) continue;  // no known term: nothing matches
    for (const Hit& hit : searcher_.search(vec, options)) {
      docs.push_back({std::string(index_.doc_id(hit.doc)), hit.score});
    }
  }
  return out;
}

}  // namespace ksparse::synth
