// Data IO in BEIR conventions, streaming.
//
//   corpus.jsonl   {"_id": "...", "title": "...", "text": "...", "metadata": {...}}   (metadata
//   optional) queries.jsonl  {"_id": "...", "text": "...", "metadata": {...}} qrels/*.tsv    header
//   "query-id<TAB>corpus-id<TAB>score", then one judgement per line run (TREC)     "qid Q0 docid
//   rank score tag", whitespace separated
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
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

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

// Reads a BEIR qrels TSV: an optional header line "query-id<TAB>corpus-id<TAB>score" (recognised
// on line 1 only), then "qid<TAB>docid<TAB>int" lines. Blank lines are skipped. Throws DataError
// naming file:line for a wrong column count, an empty id, a non-integer score, or the same
// (query, doc) pair twice (naming both lines).
Qrels read_qrels(const std::filesystem::path& path);
// Writes the header and one line per judgement, sorted by query id then doc id. Creates parent
// directories.
void write_qrels(const std::filesystem::path& path, const Qrels& qrels);

// Reads a TREC run ("qid Q0 docid rank score tag", whitespace separated, exactly 6 columns). The
// rank column is checked to be an integer but otherwise ignored: documents per query are sorted by
// score descending, ties by doc id *descending* (byte-wise), exactly as trec_eval orders them.
// Throws DataError naming file:line for a wrong column count, a non-numeric score or rank, or the
// same document twice for one query (naming both lines).
Run read_trec_run(const std::filesystem::path& path);
// Writes `run` in TREC format in map order (query ids ascending), each query's documents in the
// given order with ranks 1, 2, ...; scores round-trip exactly. Creates parent directories.
void write_trec_run(const std::filesystem::path& path, const Run& run, std::string_view tag);

// One qrels line whose query or document id is not known (see find_unknown_qrels_ids).
struct QrelsIdProblem {
  std::size_t line = 0;   // 1-based line in the qrels file
  bool is_query = false;  // true: unknown query id; false: unknown doc id
  std::string id;
};

// Streams the qrels file `qrels_path` and returns every line whose query id is not in `query_ids`
// or whose doc id is not in `doc_ids` (a line may yield two problems), in file order. Throws like
// read_qrels on malformed lines.
std::vector<QrelsIdProblem> find_unknown_qrels_ids(const std::filesystem::path& qrels_path,
                                                   const std::unordered_set<std::string>& query_ids,
                                                   const std::unordered_set<std::string>& doc_ids);
// Throws DataError when find_unknown_qrels_ids finds anything. The message gives the count and the
// first few problems as "qrels.tsv:LINE: unknown query id 'x'" lines, and says to check that the
// qrels belong to this corpus/queries pair.
void check_qrels_ids(const std::filesystem::path& qrels_path,
                     const std::unordered_set<std::string>& query_ids,
                     const std::unordered_set<std::string>& doc_ids);

// Writes JSON objects one per line (UTF-8, non-ASCII kept as is); creates parent directories.
// Documents are written as {"_id","title","text"[,"metadata"]}, queries as {"_id","text"
// [,"metadata"]} (metadata only when not null). Throws IoError when the file cannot be opened or
// written. close() flushes and reports write errors; the destructor closes silently.
class JsonlWriter {
 public:
  explicit JsonlWriter(std::filesystem::path path);
  void write(const nlohmann::json& obj);
  void write(const Document& doc);
  void write(const Query& query);
  void close();
  std::size_t count() const { return count_; }  // objects written so far

 private:
  std::filesystem::path path_;
  std::ofstream out_;
  std::size_t count_ = 0;
};

}  // namespace ksparse
