#include "ksparse/synth/negatives.h"

#include <algorithm>
#include <random>
#include <unordered_set>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/synth/prompt.h"

namespace ksparse::synth {
namespace fs = std::filesystem;
using nlohmann::json;

void NegativeMiningOptions::validate() const {
  if (k == 0) throw ConfigError("synth negatives: k must be >= 1");
  if (per_query == 0) throw ConfigError("synth negatives: per_query must be >= 1");
  if (ngram == 0) throw ConfigError("synth negatives: ngram must be >= 1");
  if (num_hashes == 0) throw ConfigError("synth negatives: num_hashes must be >= 1");
  if (!(near_duplicate_threshold > 0.0)) {
    throw ConfigError("synth negatives: near_duplicate_threshold must be > 0 (> 1 disables)");
  }
}

json NegativeMiningOptions::to_json() const {
  return {{"k", k},
          {"per_query", per_query},
          {"skip_top", skip_top},
          {"near_duplicate_threshold", near_duplicate_threshold},
          {"ngram", ngram},
          {"num_hashes", num_hashes},
          {"seed", seed},
          {"keep_existing", keep_existing}};
}

json NegativeMiningStats::to_json() const {
  return {{"triples", triples},
          {"with_negatives", with_negatives},
          {"short_of_per_query", short_of_per_query},
          {"excluded_positive", excluded_positive},
          {"excluded_near_duplicate", excluded_near_duplicate},
          {"missing_positive", missing_positive}};
}

NegativeMiningStats mine_negatives(std::vector<Triple>& triples,
                                   const std::unordered_map<std::string, Document>& corpus,
                                   Retriever& retriever, const NegativeMiningOptions& options) {
  options.validate();
  NegativeMiningStats stats;
  const MinHasher hasher(options.num_hashes);
  std::unordered_map<std::string, std::vector<std::uint64_t>> signatures;  // doc id -> signature
  auto signature = [&](const std::string& id) -> const std::vector<std::uint64_t>* {
    auto it = signatures.find(id);
    if (it != signatures.end()) return &it->second;
    auto doc = corpus.find(id);
    if (doc == corpus.end()) return nullptr;
    auto sig = hasher.signature(
        char_shingles(normalize_for_dedup(document_prompt_text(doc->second)), options.ngram));
    return &signatures.emplace(id, std::move(sig)).first->second;
  };

  // Every positive of a query text counts as a positive for all its triples: a second relevant
  // passage must not come back as a negative.
  std::unordered_map<std::string, std::unordered_set<std::string>> positives_by_query;
  for (const Triple& t : triples) positives_by_query[t.query].insert(t.positive_id);

  constexpr std::size_t kBatch = 256;
  for (std::size_t start = 0; start < triples.size(); start += kBatch) {
    const std::size_t end = std::min(triples.size(), start + kBatch);
    std::vector<std::string> queries;
    for (std::size_t i = start; i < end; ++i) queries.push_back(triples[i].query);
    const auto hits = retriever.retrieve(queries, options.k);
    for (std::size_t i = start; i < end; ++i) {
      Triple& t = triples[i];
      ++stats.triples;
      if (options.keep_existing && !t.negative_ids.empty()) {
        ++stats.with_negatives;
        continue;
      }
      const auto* pos_sig = signature(t.positive_id);
      if (pos_sig == nullptr) ++stats.missing_positive;
      const auto& positives = positives_by_query[t.query];
      std::vector<std::string> eligible;
      for (const ScoredDoc& hit : hits[i - start]) {
        if (positives.count(hit.doc_id)) {
          ++stats.excluded_positive;
          continue;
        }
        if (pos_sig != nullptr && options.near_duplicate_threshold <= 1.0) {
          const auto* sig = signature(hit.doc_id);
          if (sig != nullptr &&
              minhash_similarity(*pos_sig, *sig) >= options.near_duplicate_threshold) {
            ++stats.excluded_near_duplicate;
            continue;
          }
        }
        eligible.push_back(hit.doc_id);
      }
      if (options.skip_top >= eligible.size()) {
        eligible.clear();
      } else {
        eligible.erase(eligible.begin(),
                       eligible.begin() + static_cast<std::ptrdiff_t>(options.skip_top));
      }
      // Partial Fisher-Yates with a per-query stream; the kept negatives stay in rank order.
      std::mt19937_64 rng(stable_hash(t.query_id, options.seed));
      std::vector<std::size_t> order(eligible.size());
      for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
      const std::size_t take = std::min(options.per_query, eligible.size());
      for (std::size_t j = 0; j < take; ++j) {
        const std::size_t r = j + static_cast<std::size_t>(rng() % (order.size() - j));
        std::swap(order[j], order[r]);
      }
      order.resize(take);
      std::sort(order.begin(), order.end());
      t.negative_ids.clear();
      for (std::size_t j : order) t.negative_ids.push_back(eligible[j]);
      if (!t.negative_ids.empty()) ++stats.with_negatives;
      if (t.negative_ids.size() < options.per_query) ++stats.short_of_per_query;
    }
  }
  return stats;
}

NegativeMiningStats mine_negatives_files(const fs::path& corpus_path, const fs::path& triples_path,
                                         const fs::path& out_dir,
                                         const NegativeMiningOptions& options) {
  options.validate();
  std::unordered_map<std::string, Document> corpus;
  {
    CorpusReader reader(corpus_path);
    Document doc;
    while (reader.next(doc)) {
      std::string id = doc.id;
      corpus.emplace(std::move(id), std::move(doc));
    }
  }
  std::vector<Triple> triples = read_triples(triples_path);
  for (std::size_t i = 0; i < triples.size(); ++i) {
    if (!corpus.count(triples[i].positive_id)) {
      throw DataError(triples_path.string() + ": triple #" + std::to_string(i + 1) + " (query_id " +
                      triples[i].query_id + "): positive_id '" + triples[i].positive_id +
                      "' is not in " + corpus_path.string() +
                      "; use the corpus the triples were made from");
    }
  }
  auto retriever = Bm25Retriever::from_corpus(corpus_path);
  const NegativeMiningStats stats = mine_negatives(triples, corpus, *retriever, options);
  fs::create_directories(out_dir);
  write_triples(out_dir / "triples.jsonl", triples);
  Manifest m = make_manifest("synth-negatives",
                             {{"negatives", options.to_json()}, {"retriever", retriever->name()}});
  m.inputs.push_back(describe_file(corpus_path));
  m.inputs.push_back(describe_file(triples_path));
  m.outputs.push_back(describe_file(out_dir / "triples.jsonl", out_dir));
  m.stats = stats.to_json();
  write_manifest(out_dir, m);
  return stats;
}

}  // namespace ksparse::synth
