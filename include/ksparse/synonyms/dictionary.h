// The Korean–English synonym dictionary: (Korean term, English term) pairs, each carrying the
// provenance of every source that proposed it, and its on-disk form.
//
// A pair is keyed by normalize_ko(ko) and normalize_en(en) (terms.h), so "NASA" and "nasa" are one
// entry. Equivalence groups (an English term with all its Korean equivalents, which makes spelling
// variants such as 데이터/데이타 -> data one group) are derived from the pairs: see
// group_by_english().
//
// On disk a dictionary is a directory holding `synonyms.json` and `manifest.json` (kind
// "synonyms", manifest.h). synonyms.json:
//   {"format_version": 1,
//    "entries": [{"ko": "데이터", "en": "data", "score": 0.93, "sources": ["transliteration"],
//                 "provenance": [{"source": "transliteration", "score": 0.93, "count": 12,
//                                 "note": "...", "evidence": [{"doc_id": "d1", "text": "..."}]}]}]}
//
// Not thread-safe for concurrent mutation; const methods may be called from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ksparse::synonyms {

inline constexpr int kDictionaryFormatVersion = 1;

// Where a pair came from.
enum class Source : std::uint8_t {
  kPattern,          // "한국어(English)" parentheticals in a corpus
  kTransliteration,  // phonetic match of a Korean loanword to an English word
  kEmbedding,        // cross-lingual nearest neighbours (added by the embedding stage)
  kSeed,             // curated pairs from a TSV file
  kLlm,              // accepted by an LLM verifier (CandidateVerifier)
  kDiscovery,        // proposed by the LLM itself for a term without an entry (llm_judge.h)
};
inline constexpr std::size_t kSourceCount = 6;

// "pattern", "transliteration", "embedding", "seed", "llm", "discovery".
std::string_view source_name(Source s);
// Inverse of source_name; throws ConfigError listing the valid names.
Source parse_source(std::string_view name);
// All sources in enum order.
const std::vector<Source>& all_sources();

// One example supporting a pair (a sentence of a corpus document).
struct Evidence {
  std::string doc_id;
  std::string text;
};

// What one source says about a pair.
struct Provenance {
  Source source = Source::kSeed;
  double score = 0.0;              // source-specific confidence in [0, 1] (see each source's docs)
  std::uint64_t count = 0;         // supporting occurrences (pattern matches, seed lines, ...)
  std::string note;                // free text: "seed.tsv:12", an LLM's reason, a pattern kind
  std::vector<Evidence> evidence;  // a few examples, capped by the producer
};

struct Entry {
  std::string ko;                      // normalize_ko form
  std::string en;                      // normalize_en form
  std::vector<Provenance> provenance;  // at most one per source (merged on add)

  // Highest provenance score; 0 when there is none.
  double score() const;
  bool has_source(Source s) const;
  const Provenance* find(Source s) const;
};

// Set of entries keyed by (ko, en).
class Dictionary {
 public:
  // Adds `p` to the pair (created when new; terms are normalised here). When the pair already has
  // provenance from the same source, the two are merged: counts add, the higher score wins, notes
  // join with "; ", evidence is appended up to `max_evidence`. Returns the entry. Throws DataError
  // when a normalised term is empty.
  Entry& add(std::string_view ko, std::string_view en, Provenance p, std::size_t max_evidence = 3);

  // Adds every provenance of every entry of `other`.
  void merge(const Dictionary& other, std::size_t max_evidence = 3);

  // Removes the pair; true when it existed.
  bool remove(std::string_view ko, std::string_view en);

  const Entry* find(std::string_view ko, std::string_view en) const;
  // Entries of one Korean term, in English order.
  std::vector<const Entry*> by_ko(std::string_view ko) const;

  // Entries sorted by (ko, en).
  std::vector<const Entry*> entries() const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Number of entries having provenance from `s`.
  std::size_t count_source(Source s) const;
  // Number of distinct Korean terms.
  std::size_t ko_terms() const;

  nlohmann::json to_json() const;
  // Throws DataError naming `origin` on a malformed document or an unsupported format_version.
  static Dictionary from_json(const nlohmann::json& j, std::string_view origin = "synonyms.json");

 private:
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

// Writes `dir`/synonyms.json and `dir`/manifest.json (kind "synonyms", with `config` and
// `inputs` recorded, stats = per-source counts plus `extra_stats`). Creates `dir`. Further files
// already written into `dir` are listed in the manifest's outputs when named in `other_outputs`.
void save_dictionary(const std::filesystem::path& dir, const Dictionary& dict,
                     const nlohmann::json& config = nlohmann::json::object(),
                     const std::vector<std::filesystem::path>& inputs = {},
                     const std::vector<std::string>& other_outputs = {},
                     const nlohmann::json& extra_stats = nlohmann::json::object());

// Reads a dictionary directory written by save_dictionary (checks the manifest kind and the
// file's format version). Throws IoError / DataError naming the file.
Dictionary load_dictionary(const std::filesystem::path& dir);

// An equivalence group: one English term and its Korean equivalents (spelling variants included).
struct Group {
  std::string en;
  std::vector<std::string> ko;  // sorted by descending entry score, then ko
  double score = 0.0;           // highest entry score in the group
};

// One group per English term over the entries with score >= `min_score`, sorted by `en`.
std::vector<Group> group_by_english(const Dictionary& dict, double min_score = 0.0);

}  // namespace ksparse::synonyms
