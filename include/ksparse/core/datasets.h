// Converters from raw datasets to the BEIR layout read by io.h:
//
//   OUT/corpus.jsonl  OUT/queries.jsonl  OUT/qrels/{test,train}.tsv  OUT/manifest.json (kind
//   "dataset", with the resolved options, input checksums, output checksums and counts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ksparse {

class ConfigTable;

// KorQuAD 1.0 (SQuAD-style JSON) as retrieval.
//   passages: unique `context` strings, id "kq-A-P" (article A, paragraph P of the first
//     occurrence, both 0-based), title = article title, metadata {article, paragraph}
//   queries: every `question`, id = the KorQuAD question id, metadata {article, title, answers,
//     split}
//   qrels: one per question (its paragraph's passage, grade 1)
// Articles are split whole, so no passage is shared between train and test.
struct KorquadOptions {
  std::filesystem::path input;    // KorQuAD_v1.0_{train,dev}.json
  std::filesystem::path out_dir;  // created when missing
  // Fraction of articles (rounded to nearest) whose questions go to qrels/train.tsv; the rest go
  // to qrels/test.tsv. 0 disables the split: every qrel goes to qrels/test.tsv. Range [0, 1).
  double split_articles = 0.0;
  std::uint64_t seed = 13;  // article shuffle seed (same seed, same split on every platform)

  // ConfigError on an empty input/out_dir or split_articles outside [0, 1).
  void validate() const;
  nlohmann::json to_json() const;
};

// CSV corpus (one document per row), columns chosen by header name.
struct CsvCorpusOptions {
  std::filesystem::path input;
  std::filesystem::path out_dir;
  std::string id_col;     // empty: ids generated as "d000001", "d000002", ... in row order
  std::string title_col;  // empty: titles ""
  std::string text_col;   // required
  std::string date_col;   // empty: none; else copied to metadata.date
  std::vector<std::string> meta_cols;  // further columns copied to metadata[name]
  char delimiter = ',';

  // ConfigError on empty input/out_dir/text_col.
  void validate() const;
  nlohmann::json to_json() const;
};

struct DatasetStats {
  std::size_t passages = 0;
  std::size_t queries = 0;
  std::size_t qrels = 0;  // all judgements (train + test)
  std::size_t train_qrels = 0;
  std::size_t test_qrels = 0;
  std::size_t articles = 0;            // KorQuAD only
  std::size_t train_articles = 0;      // KorQuAD only
  std::size_t duplicate_passages = 0;  // KorQuAD: contexts seen before; CSV: 0
  std::size_t empty_text = 0;          // CSV: rows whose text is empty (kept)

  nlohmann::json to_json() const;
};

// Options from a config table (keys named like the fields; ConfigError on unknown keys).
KorquadOptions korquad_options_from(const ConfigTable& table, KorquadOptions defaults = {});

// Converts; throws DataError naming the input (JSON path for KorQuAD, file:line for CSV) on
// malformed data, IoError on unwritable output.
DatasetStats convert_korquad(const KorquadOptions& options);
DatasetStats convert_csv_corpus(const CsvCorpusOptions& options);

// Which articles go to train: a seeded Fisher-Yates shuffle of 0..n-1 (own generator, so the
// split is identical across standard libraries); the first round(fraction * n) are train.
std::vector<bool> split_articles(std::size_t n, double fraction, std::uint64_t seed);

}  // namespace ksparse
