#include "ksparse/synonyms/evaluate.h"

#include <algorithm>
#include <functional>
#include <set>

namespace ksparse::synonyms {

namespace {

double ratio(std::size_t a, std::size_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

EvalScores score_entries(const std::vector<const Entry*>& entries, const Gold& gold,
                         const std::set<std::string>& excluded) {
  EvalScores s;
  s.entries = entries.size();
  std::set<std::string> scored_heads, found_heads;
  for (const Entry* e : entries) {
    if (excluded.count(e->ko)) continue;
    auto it = gold.find(e->ko);
    if (it == gold.end()) continue;
    ++s.scored_pairs;
    scored_heads.insert(e->ko);
    if (it->second.count(e->en)) {
      ++s.correct_pairs;
      found_heads.insert(e->ko);
    }
  }
  for (const auto& [ko, ens] : gold) {
    if (excluded.count(ko)) continue;
    ++s.gold_headwords;
    s.gold_pairs += ens.size();
  }
  s.scored_headwords = scored_heads.size();
  s.found_headwords = found_heads.size();
  s.precision = ratio(s.correct_pairs, s.scored_pairs);
  s.recall = ratio(s.found_headwords, s.gold_headwords);
  s.pair_recall = ratio(s.correct_pairs, s.gold_pairs);
  return s;
}

}  // namespace

nlohmann::json EvalScores::to_json() const {
  return {{"entries", entries},
          {"scored_pairs", scored_pairs},
          {"correct_pairs", correct_pairs},
          {"scored_headwords", scored_headwords},
          {"found_headwords", found_headwords},
          {"gold_headwords", gold_headwords},
          {"gold_pairs", gold_pairs},
          {"precision", precision},
          {"recall", recall},
          {"pair_recall", pair_recall}};
}

EvalReport evaluate(const Dictionary& dict, const Gold& gold, const EvalOptions& options) {
  EvalReport r;
  const std::vector<const Entry*> all = dict.entries();
  r.entries = all.size();
  r.seed_entries = dict.count_source(Source::kSeed);
  std::set<std::string> excluded;
  if (!options.include_seed) {
    for (const Entry* e : all) {
      if (e->has_source(Source::kSeed)) excluded.insert(e->ko);
    }
  }
  r.overall = score_entries(all, gold, excluded);
  for (Source src : all_sources()) {
    std::vector<const Entry*> subset;
    for (const Entry* e : all) {
      if (e->has_source(src)) subset.push_back(e);
    }
    r.by_source[std::string(source_name(src))] = score_entries(subset, gold, excluded);
  }
  for (const Entry* e : all) {
    if (excluded.count(e->ko)) continue;
    auto it = gold.find(e->ko);
    if (it == gold.end() || it->second.count(e->en)) continue;
    ++r.disagreement_count;
    Disagreement d;
    d.ko = e->ko;
    d.en = e->en;
    d.score = e->score();
    for (const Provenance& p : e->provenance) d.sources.emplace_back(source_name(p.source));
    d.gold.assign(it->second.begin(), it->second.end());
    r.disagreements.push_back(std::move(d));
  }
  std::stable_sort(r.disagreements.begin(), r.disagreements.end(),
                   [](const Disagreement& a, const Disagreement& b) { return a.score > b.score; });
  if (r.disagreements.size() > options.max_disagreements)
    r.disagreements.resize(options.max_disagreements);
  return r;
}

nlohmann::json EvalReport::to_json() const {
  nlohmann::json j = {{"entries", entries},
                      {"seed_entries", seed_entries},
                      {"precision", overall.precision},
                      {"recall", overall.recall},
                      {"pair_recall", overall.pair_recall},
                      {"overall", overall.to_json()},
                      {"disagreement_count", disagreement_count}};
  for (const auto& [name, s] : by_source) j["by_source"][name] = s.to_json();
  nlohmann::json ds = nlohmann::json::array();
  for (const Disagreement& d : disagreements) {
    ds.push_back(
        {{"ko", d.ko}, {"en", d.en}, {"sources", d.sources}, {"score", d.score}, {"gold", d.gold}});
  }
  j["disagreements"] = std::move(ds);
  return j;
}

}  // namespace ksparse::synonyms
