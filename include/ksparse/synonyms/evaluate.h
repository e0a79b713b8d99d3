// Evaluation of a synonym dictionary against gold translation lists (MUSE, Wiktionary).
//
// Definitions (pairs are (Korean, English) after normalize_ko / normalize_en):
//  - scored headwords: Korean terms of the dictionary that are gold headwords, minus (unless
//    include_seed) every Korean term that has a seed entry: those were given, not found.
//  - scored pairs: dictionary pairs whose Korean term is a scored headword.
//  - precision = scored pairs whose English is a gold translation of the Korean / scored pairs.
//    Pairs for Korean terms the gold does not know are not judged (the gold lists are incomplete).
//  - recall = gold headwords (minus seed headwords unless include_seed) for which the dictionary
//    has at least one correct pair / those gold headwords.
//  - pair_recall = correct pairs / gold pairs (same headword restriction).
// Per source: the same numbers over the entries carrying that source's provenance (an entry with
// two sources counts for both); "overall" uses every entry once.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synonyms/lexicon.h"

namespace ksparse::synonyms {

struct EvalOptions {
  bool include_seed = false;            // also score headwords that have seed entries
  std::size_t max_disagreements = 100;  // listed in the report (0: none); counts are complete
};

struct EvalScores {
  std::size_t entries = 0;  // entries considered (this source / all)
  std::size_t scored_pairs = 0;
  std::size_t correct_pairs = 0;
  std::size_t scored_headwords = 0;
  std::size_t found_headwords = 0;  // gold headwords with >= 1 correct pair
  std::size_t gold_headwords = 0;
  std::size_t gold_pairs = 0;
  double precision = 0.0;  // 0 when nothing is scored
  double recall = 0.0;
  double pair_recall = 0.0;
  nlohmann::json to_json() const;
};

// A scored pair the gold does not contain.
struct Disagreement {
  std::string ko;
  std::string en;
  std::vector<std::string> sources;
  double score = 0.0;
  std::vector<std::string> gold;  // the gold translations of ko
};

struct EvalReport {
  std::size_t entries = 0;
  std::size_t seed_entries = 0;
  EvalScores overall;
  std::map<std::string, EvalScores> by_source;  // every source name, also when empty
  std::size_t disagreement_count = 0;
  std::vector<Disagreement> disagreements;  // highest score first, capped
  nlohmann::json to_json() const;
};

EvalReport evaluate(const Dictionary& dict, const Gold& gold, const EvalOptions& options = {});

}  // namespace ksparse::synonyms
