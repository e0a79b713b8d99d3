// Data IO in BEIR conventions, streaming.
//
//   corpus.jsonl   {"_id": "...", "title": "...", "text": "...", "metadata": {...}}   (metadata optional)
//   queries.jsonl  {"_id": "...", "text": "...", "metadata": {...}}
//   qrels/*.tsv    header "query-id<TAB>corpus-id<TAB>score", then one judgement per line
//   run (TREC)     "qid Q0 docid rank score tag", whitespace separated
//
// Readers stream line by line (big corpora never load whole); every error names file:line.
// Readers are not thread-safe; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ksparse {

struct Document {
  std::string id;
  std::string title;
  std::string text;
  nlohmann::json metadata;  // null when absent
};

struct Query {
  std::string id;
  std::string text;
  nlohmann::json metadata;  // null when absent
};

// qrels[query_id][doc_id] = relevance grade (> 0 relevant; 0 or negative judged non-relevant).
using Qrels = std::map<std::string, std::map<std::string, int>>;

struct ScoredDoc {
  std::string doc_id;
  double score = 0.0;
};
// run[query_id] = documents, best first.
using Run = std::map<std::string, std::vector<ScoredDoc>>;

// Reads a text file line by line, counting lines (1-based) for messages. Strips a trailing '\r'.
// Throws IoError if the file cannot be opened.
class LineReader {
 public:
  explicit LineReader(std::filesystem::path path);
  // Next line into `line`; false at end of file.
  bool next(std::string& line);
  std::size_t line_no() const { return line_no_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t line_no_ = 0;
};

// Streams a BEIR corpus.jsonl. Validates each line: JSON object, `_id` a non-empty string, `text` a
// string (`title` optional, defaults to ""), valid UTF-8, ids unique across the file. Blank lines
// are skipped. Throws DataError naming file:line.
class CorpusReader {
 public:
  explicit CorpusReader(std::filesystem::path path);
  ~CorpusReader();
  bool next(Document& doc);
  std::size_t line_no() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streams a BEIR queries.jsonl with the same validation as CorpusReader.
class QueryReader {
 public:
  explicit QueryReader(std::filesystem::path path);
  ~QueryReader();
  bool next(Query& query);
  std::size_t line_no() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whole-file conveniences on top of the readers. `read_corpus` throws DataError on an empty corpus.
std::vector<Document> read_corpus(const std::filesystem::path& path);
std::vector<Query> read_queries(const std::filesystem::path& path);

Qrels read_qrels(const std::filesystem::path& path);
void write_qrels(const std::filesystem::path& path, const Qrels& qrels);

// Reads a TREC run; documents per query sorted by score descending (ties: doc id ascending, as
// trec_eval does).
Run read_trec_run(const std::filesystem::path& path);
void write_trec_run(const std::filesystem::path& path, const Run& run, std::string_view tag);

// Writes JSON objects one per line; creates parent directories.
class JsonlWriter {
 public:
  explicit JsonlWriter(std::filesystem::path path);
  void write(const nlohmann::json& obj);
  void write(const Document& doc);
  void write(const Query& query);
  void close();

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace ksparse
