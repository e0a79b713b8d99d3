// Training triples: (query, positive passage, hard negatives), real or synthetic, as JSONL.
//
// One object per line:
//   {"query": "BERT 모델 학습 방법", "query_id": "syn-d12-0-0", "positive_id": "d12",
//    "negative_ids": ["d7", "d31"], "source": "synthetic",
//    "provenance": {"model": "gemma-3-270m (sha256 ...)", "template": "ko_keyword",
//                   "template_hash": "...", "logprob": -0.83, "style": "keyword",
//                   "filters": {"length": "pass", "duplicate": "pass", ...}}}
// `negative_ids` may be absent (read as empty); `provenance` is absent for real triples (and may be
// absent for synthetic ones made by hand). Ids refer to a BEIR corpus.jsonl.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ksparse::synth {

enum class TripleSource { kReal, kSynthetic };
const char* triple_source_name(TripleSource source);  // "real" | "synthetic"

// How a synthetic query was made. Every field is optional on read (empty / nullopt when absent).
struct Provenance {
  std::string model;                           // model name and file hash
  std::string template_name;                   // JSON key "template"
  std::string template_hash;                   // sha256 of the template file
  std::optional<double> logprob;               // mean token log-probability of the generation
  std::string style;                           // "keyword" | "question" | "english" | "mixed" | ...
  std::map<std::string, std::string> filters;  // filter name -> "pass" or the rejection reason
  nlohmann::json extra;  // any further keys, kept as they were read (object or null)

  nlohmann::json to_json() const;
};

struct Triple {
  std::string query;
  std::string query_id;
  std::string positive_id;
  std::vector<std::string> negative_ids;
  TripleSource source = TripleSource::kReal;
  std::optional<Provenance> provenance;

  nlohmann::json to_json() const;
};

// Parses one triple object. Throws DataError prefixed with `where` (e.g. "file:12") for a missing
// or mistyped field, an empty query or id, or a source other than "real"/"synthetic".
Triple triple_from_json(const nlohmann::json& j, const std::string& where);

// Streams triples.jsonl. Blank lines are skipped; every error names file:line. Not thread-safe.
class TriplesReader {
 public:
  explicit TriplesReader(std::filesystem::path path);  // IoError when it cannot be opened
  ~TriplesReader();
  bool next(Triple& triple);  // false at end of file; DataError on a bad line
  std::size_t line_no() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::vector<Triple> read_triples(const std::filesystem::path& path);

// Writes triples as JSONL (creating parent directories); IoError on failure.
void write_triples(const std::filesystem::path& path, const std::vector<Triple>& triples);

}  // namespace ksparse::synth
