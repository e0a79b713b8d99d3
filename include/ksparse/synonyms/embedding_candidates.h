// Embedding candidates: cross-lingual nearest neighbours between a Korean and an English term list.
//
// Both lists are embedded by the caller's function (e.g. llm::LlamaEmbedder::embed), each side is
// mean-centred and re-normalised (a causal LM's hidden states share a large common direction, and
// the two languages sit in different regions; removing each language's mean is the cheap fix of
// Libovický et al. 2020, "On the language neutrality of pre-trained multilingual
// representations"), and every Korean term is matched to its English neighbours ranked by CSLS
// (Conneau et al. 2018, "Word translation without parallel data"):
//   CSLS(k, e) = 2 cos(k, e) - r_en(k) - r_ko(e),
// where r_en(k) is the mean cosine of k to its `csls_k` nearest English terms (and r_ko(e) the same
// for e), which demotes "hub" terms that are near everything. A proposal keeps the cosine as its
// score (Source::kEmbedding) and records CSLS and rank in the context note.
//
// Pure computation apart from the embed function; O(|ko| * |en| * dim).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "ksparse/synonyms/candidate.h"

namespace ksparse::synonyms {

// Texts -> one L2-normalised vector per text, all of the same dimension.
using EmbedFn = std::function<std::vector<std::vector<float>>(const std::vector<std::string>&)>;

struct EmbeddingOptions {
  std::size_t top_k = 3;       // English neighbours proposed per Korean term
  std::size_t csls_k = 10;     // neighbourhood size of the CSLS hubness correction
  double min_cosine = 0.0;     // proposals need a centred cosine >= this (-1 keeps all top_k)
  bool center = true;          // subtract each language's mean vector first
  bool mutual = false;         // keep only pairs where the Korean term is also the English
                               // term's best Korean neighbour (by CSLS)
  // Texts given to the embed function: "{}" is replaced by the term.
  std::string ko_template = "{}";
  std::string en_template = "{}";
  void validate() const;  // throws ConfigError
};

// Proposals (source kEmbedding, score = centred cosine, context = "csls=…, rank=…"), grouped by
// Korean term in input order, best first. Empty when either list is empty. Throws DataError when
// the embed function returns the wrong number of vectors or vectors of different sizes.
std::vector<CandidatePair> embedding_candidates(const std::vector<std::string>& ko_terms,
                                                const std::vector<std::string>& en_terms,
                                                const EmbedFn& embed,
                                                const EmbeddingOptions& options = {});

}  // namespace ksparse::synonyms
